using System.Text.Json.Nodes;
using Stencil.TestSupport;

namespace Stencil.EndToEnd.Tests;

/// <summary>`ctr run` through containerd (1.6, 1.7 or 2.x: the test matrix) into a VM per container (template clones).</summary>
[Collection(StencilCollection.Name)]
public sealed class CtrRunTests(StencilContainerd s)
{
    private const string R = StencilContainerd.Runtime;
    private const string I = StencilContainerd.Image;

    private static string Lines(string text) => text.Replace("\r", "").Trim();

    [Fact]
    [Trait("Category", "Smoke")]
    public async Task Echo_prints_from_the_guest_and_leaves_nothing()
    {
        var r = await s.Ctr("run", "--rm", "--runtime", R, I, "e2e-echo", "sh", "-c", "echo hello; uname -r");
        Assert.True(r.ExitCode == 0, $"ctr run: {r.Stderr}\n{s.Containerd.ReadLog()}");
        var lines = Lines(r.Stdout).Split('\n');
        Assert.Equal("hello", lines[0]);
        // The guest kernel, not the host's.
        Assert.NotEqual(Lines(File.ReadAllText("/proc/sys/kernel/osrelease")), lines[1]);
        await AssertCleanAsync();
    }

    [Fact]
    [Trait("Category", "Smoke")]
    public async Task Exit_code_is_the_containers()
    {
        var r = await s.Ctr("run", "--rm", "--runtime", R, I, "e2e-exit3", "sh", "-c", "exit 3");
        Assert.Equal(3, r.ExitCode);
        await AssertCleanAsync();
    }

    [Fact]
    public async Task A_container_over_its_memory_limit_is_OOM_killed_with_exit_137_and_a_tasks_oom_event()
    {
        await using var events = s.Containerd.StartCtr("default", "events");
        // dd's 64 MiB buffer does not fit a 32 MiB limit: the VM's kernel kills it, as the host's would with runc.
        var r = await s.Ctr("run", "--rm", "--runtime", R, "--memory-limit", (32 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture), I,
            "e2e-oom", "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1");
        Assert.True(r.ExitCode == 137, $"ctr run exited {r.ExitCode}: {r.Stderr}\n{s.Containerd.ReadLog()}");
        await events.WaitForLineAsync(l => l.Contains("/tasks/oom", StringComparison.Ordinal) && l.Contains("\"container_id\":\"e2e-oom\"", StringComparison.Ordinal),
            Eventually.Timeout);
        await AssertCleanAsync();
    }

    [Fact]
    public async Task Env_and_cwd_from_the_spec()
    {
        var r = await s.Ctr("run", "--rm", "--runtime", R, "--env", "FOO=bar", "--cwd", "/tmp", I, "e2e-env", "sh", "-c", "echo $FOO; pwd");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("bar\n/tmp", Lines(r.Stdout));
        await AssertCleanAsync();
    }

    [Fact]
    public async Task User_and_hostname_from_a_spec_file_with_a_host_rootfs()
    {
        // `ctr run --config` takes the spec as is: no image, so root.path is a host folder the shim binds in.
        var rootfs = Directory.CreateDirectory(Path.Combine(s.Dir, "spec-rootfs")).FullName;
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        File.Copy("/bin/busybox", Path.Combine(rootfs, "bin", "busybox"), overwrite: true);
        foreach (var applet in new[] { "sh", "id", "hostname" })
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        foreach (var dir in new[] { "proc", "sys", "dev", "tmp" })
            Directory.CreateDirectory(Path.Combine(rootfs, dir));

        var spec = JsonNode.Parse((await s.Ctr("oci", "spec")).EnsureSuccess("ctr oci spec"))!;
        spec["root"] = new JsonObject { ["path"] = rootfs };
        spec["process"]!["user"] = new JsonObject { ["uid"] = 1000, ["gid"] = 1500, ["additionalGids"] = new JsonArray(10) };
        spec["process"]!["args"] = new JsonArray("sh", "-c", "id -u; id -g; hostname");
        spec["process"]!["env"] = new JsonArray("PATH=/bin"); // `ctr oci spec` has none; runc would not find sh either
        spec["hostname"] = "stencil-e2e";
        var specPath = Path.Combine(s.Dir, "user-spec.json");
        File.WriteAllText(specPath, spec.ToJsonString());
        var r = await s.Ctr("run", "--rm", "--runtime", R, "--config", specPath, "e2e-user");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("1000\n1500\nstencil-e2e", Lines(r.Stdout));
        Assert.Equal(["busybox", "hostname", "id", "sh"], Directory.GetFileSystemEntries(Path.Combine(rootfs, "bin")).Select(Path.GetFileName).Order());
        await AssertCleanAsync();
    }

    [Fact]
    public async Task Stdin_is_piped_in()
    {
        var r = await s.Shell($"printf 'piped\\nline2\\n' | CTR run --rm --runtime {R} {I} e2e-stdin cat");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("piped\nline2", Lines(r.Stdout));
        await AssertCleanAsync();
    }

    [Fact]
    public async Task A_tty_is_a_terminal()
    {
        var r = await s.Shell($"script -qec \"CTR run --rm -t --runtime {R} {I} e2e-tty sh -c 'test -t 0 && echo is-a-tty'\" /dev/null");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Contains("is-a-tty", r.Stdout);
        await AssertCleanAsync();
    }

    [Fact]
    public async Task Bind_mount_of_a_host_folder_is_seen_read_only()
    {
        var host = Directory.CreateDirectory(Path.Combine(s.Dir, "bind-src")).FullName;
        File.WriteAllText(Path.Combine(host, "f"), "from-host");
        var r = await s.Ctr("run", "--rm", "--runtime", R, "--mount", $"type=bind,src={host},dst=/data,options=rbind:ro", I, "e2e-bind",
            "sh", "-c", "cat /data/f; echo; touch /data/g 2>/dev/null && echo writable || echo read-only");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("from-host\nread-only", Lines(r.Stdout));
        Assert.Equal(["f"], Directory.GetFiles(host).Select(Path.GetFileName));
        await AssertCleanAsync();
    }

    [Fact]
    public async Task A_command_that_does_not_exist_fails_with_the_runtimes_message()
    {
        var r = await s.Ctr("run", "--rm", "--runtime", R, I, "e2e-nocmd", "/no/such/command");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("/no/such/command", r.Stderr);
        await s.Ctr("containers", "rm", "e2e-nocmd");
        await AssertCleanAsync();
    }

    [Fact]
    [Trait("Category", "Smoke")]
    public async Task Detached_task_exec_ps_metrics_pause_resume_and_signals()
    {
        // The init is PID 1 of its namespace: a signal with no handler is ignored there (as with runc), so it traps TERM.
        (await s.Ctr("run", "-d", "--runtime", R, I, "e2e-long", "sh", "-c", "trap 'exit 143' TERM; while true; do sleep 1; done")).EnsureSuccess("ctr run -d");
        try
        {
            AssertBootstrapAnnounced("e2e-long");
            var exec = await s.Ctr("task", "exec", "--exec-id", "x1", "e2e-long", "sh", "-c", "echo from-exec; exit 4");
            Assert.Equal(4, exec.ExitCode);
            Assert.Equal("from-exec", Lines(exec.Stdout));

            var tty = await s.Shell("script -qec \"CTR task exec -t --exec-id x2 e2e-long sh -c 'test -t 1 && echo exec-tty'\" /dev/null");
            Assert.Contains("exec-tty", tty.Stdout);

            var ps = (await s.Ctr("task", "ps", "e2e-long")).EnsureSuccess("ctr task ps");
            Assert.Matches(@"\n\d+\s", ps);

            var metrics = (await s.Ctr("task", "metrics", "e2e-long")).EnsureSuccess("ctr task metrics");
            Assert.Contains("memory.usage_in_bytes", metrics);

            (await s.Ctr("task", "pause", "e2e-long")).EnsureSuccess("ctr task pause");
            Assert.Matches(@"e2e-long\s+\d+\s+PAUSED", (await s.Ctr("task", "ls")).Stdout);
            (await s.Ctr("task", "resume", "e2e-long")).EnsureSuccess("ctr task resume");
            Assert.Matches(@"e2e-long\s+\d+\s+RUNNING", (await s.Ctr("task", "ls")).Stdout);

            (await s.Ctr("task", "kill", "--signal", "SIGTERM", "e2e-long")).EnsureSuccess("ctr task kill");
            await WaitUntilAsync(async () => (await s.Ctr("task", "ls")).Stdout.Contains("STOPPED"), "e2e-long stopped");
        }
        finally
        {
            await s.Ctr("task", "rm", "-f", "e2e-long");
            await s.Ctr("containers", "rm", "e2e-long");
        }
        await AssertCleanAsync();
    }

    [Fact]
    [Trait("Category", "Smoke")]
    public async Task Sigkill_reports_137()
    {
        var run = s.Shell($"CTR run --rm --runtime {R} {I} e2e-kill sleep 1000");
        await WaitUntilAsync(async () => System.Text.RegularExpressions.Regex.IsMatch((await s.Ctr("task", "ls")).Stdout, @"e2e-kill\s+\d+\s+RUNNING"), "e2e-kill running");
        (await s.Ctr("task", "kill", "--signal", "SIGKILL", "e2e-kill")).EnsureSuccess("ctr task kill");
        var r = await run;
        Assert.Equal(137, r.ExitCode);
        await AssertCleanAsync();
    }

    /// <summary>What `start` told containerd, as containerd keeps it in the bundle: 2.x writes the
    /// bootstrap JSON it read (task API 3: it then calls containerd.task.v3.Task, which the rest of the
    /// test exercises); 1.6 and 1.7 keep only the shim's own address file (1.7 was given JSON with task
    /// API 2, 1.6 the bare address: BootstrapAnswer's unit tests).</summary>
    private void AssertBootstrapAnnounced(string id)
    {
        var bundle = s.Containerd.TaskBundle("default", id);
        var bootstrap = Path.Combine(bundle, "bootstrap.json");
        var version = s.Containerd.Version ?? throw new InvalidOperationException("containerd --version named no version");
        Assert.StartsWith("unix://", File.ReadAllText(Path.Combine(bundle, "address")));
        if (version.Major < 2)
        {
            Assert.False(File.Exists(bootstrap), $"containerd {version} wrote {bootstrap}");
            return;
        }
        var json = JsonNode.Parse(File.ReadAllText(bootstrap))!;
        Assert.Equal(3, (int)json["version"]!);
        Assert.Equal("ttrpc", (string?)json["protocol"]);
        Assert.StartsWith("unix://", (string?)json["address"]);
    }

    private async Task AssertCleanAsync()
    {
        await WaitUntilAsync(() => Task.FromResult(s.LeftoverProcesses().Count == 0 && s.LeftoverMounts().Count == 0 && s.LeftoverPodState().Count == 0),
            "no QEMU, shim, mount or pod state left",
            () => string.Join("\n", s.LeftoverProcesses().Concat(s.LeftoverMounts()).Concat(s.LeftoverPodState())));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, Func<string>? describe = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for: {what}\n{describe?.Invoke()}");
            await Task.Delay(200);
        }
    }
}
