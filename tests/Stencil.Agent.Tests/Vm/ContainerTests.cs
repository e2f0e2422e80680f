using System.Text;
using Stencil.Agent.Client;
using Xunit.Abstractions;

namespace Stencil.Agent.Tests.Vm;

[Collection(GuestVmCollection.Name)]
public sealed class ContainerTests(GuestVmFixture vm, ITestOutputHelper output)
{
    private AgentClient Agent => vm.Agent;

    [Fact]
    public async Task Echo_prints_hello_and_exits_zero()
    {
        var (stdout, stderr, code) = await vm.RunAsync("echo", "echo", "hello");
        Assert.Equal("hello\n", stdout);
        Assert.Equal("", stderr);
        Assert.Equal(0, code);
    }

    [Fact]
    public async Task Exit_code_and_stderr_come_back()
    {
        var (stdout, stderr, code) = await vm.RunAsync("exit7", "sh", "-c", "echo out; echo oops >&2; exit 7");
        Assert.Equal("out\n", stdout);
        Assert.Equal("oops\n", stderr);
        Assert.Equal(7, code);
    }

    [Fact]
    public async Task Stdin_is_piped_to_cat()
    {
        await vm.CreateAsync("cat", ["cat"]);
        try
        {
            await Agent.StartContainerAsync("cat");
            var stdout = vm.ReadAllAsync("cat");
            Assert.Equal(6, await Agent.WriteStdinAsync("cat", null, "hello\n"u8.ToArray()));
            await Agent.WriteStdinAsync("cat", null, "world\n"u8.ToArray());
            await Agent.CloseStdinAsync("cat", null);
            Assert.Equal("hello\nworld\n", await stdout);
            Assert.Equal(0, (await vm.WaitAsync("cat")).ExitCode);
        }
        finally
        {
            await Agent.RemoveContainerAsync("cat", force: true);
        }
    }

    [Fact]
    public async Task Terminal_gets_its_window_size()
    {
        await vm.CreateAsync("tty", ["sh", "-c", "read line; stty size; tty"], terminal: true);
        try
        {
            await Agent.StartContainerAsync("tty");
            await Agent.ResizeTtyAsync("tty", null, 33, 101);
            var stdout = vm.ReadAllAsync("tty");
            await Agent.WriteStdinAsync("tty", null, "go\n"u8.ToArray());
            var text = (await stdout).Replace("\r", "");
            Assert.Contains("33 101\n", text);
            Assert.Contains("/dev/pts/", text);
            Assert.Equal(0, (await vm.WaitAsync("tty")).ExitCode);
            // A terminal has no separate stderr.
            Assert.Equal("", await vm.ReadAllAsync("tty", stream: StdioStream.Stderr));
        }
        finally
        {
            await Agent.RemoveContainerAsync("tty", force: true);
        }
    }

    [Fact]
    public async Task Exec_signals_and_sigkill_exit_codes()
    {
        await vm.CreateAsync("sleeper", ["sleep", "1000"]);
        try
        {
            await Agent.StartContainerAsync("sleeper");

            await Agent.ExecProcessAsync("sleeper", "e1", TestSpecs.ProcessJson(["sh", "-c", "echo from-exec; echo err >&2; exit 5"]));
            Assert.Equal("from-exec\n", await vm.ReadAllAsync("sleeper", "e1"));
            Assert.Equal("err\n", await vm.ReadAllAsync("sleeper", "e1", StdioStream.Stderr));
            Assert.Equal(5, (await vm.WaitAsync("sleeper", "e1")).ExitCode);

            // An exec'd process is not its namespace's init, so SIGTERM's default action applies.
            await Agent.ExecProcessAsync("sleeper", "e2", TestSpecs.ProcessJson(["sleep", "1000"]));
            // The exec'd process may still be between the runtime's fork and its exec for a moment.
            IReadOnlyList<GuestProcessInfo> processes = [];
            for (var i = 0; i < 50; i++)
            {
                processes = await Agent.ListProcessesAsync("sleeper");
                if (processes.Count(p => p.Args.Count > 0 && p.Args[0] == "sleep") == 2)
                    break;
                await Task.Delay(100);
            }
            Assert.True(processes.Count(p => p.Args.Count > 0 && p.Args[0] == "sleep") == 2,
                string.Join("; ", processes.Select(p => $"{p.Pid}: {string.Join(' ', p.Args)}")));
            await Agent.SignalProcessAsync("sleeper", "e2", 15);
            Assert.Equal(143, (await vm.WaitAsync("sleeper", "e2")).ExitCode);

            // An exec with a terminal.
            await Agent.ExecProcessAsync("sleeper", "e3", TestSpecs.ProcessJson(["sh", "-c", "tty; exit 3"], terminal: true));
            Assert.StartsWith("/dev/pts/", await vm.ReadAllAsync("sleeper", "e3"));
            Assert.Equal(3, (await vm.WaitAsync("sleeper", "e3")).ExitCode);

            var before = DateTimeOffset.UtcNow.AddSeconds(-5);
            await Agent.SignalProcessAsync("sleeper", null, 9);
            var exit = await vm.WaitAsync("sleeper");
            Assert.Equal(137, exit.ExitCode);
            Assert.InRange(exit.ExitedAt, before, DateTimeOffset.UtcNow.AddMinutes(1));

            var ex = await Assert.ThrowsAsync<StencilException>(() => Agent.SignalProcessAsync("sleeper", null, 9));
            Assert.Equal(ErrorKind.NotFound, ex.Kind);
            ex = await Assert.ThrowsAsync<StencilException>(() => Agent.ExecProcessAsync("sleeper", "e4", TestSpecs.ProcessJson(["true"])));
            Assert.Equal(ErrorKind.FailedPrecondition, ex.Kind);
        }
        finally
        {
            await Agent.RemoveContainerAsync("sleeper", force: true);
        }
    }

    [Fact]
    public async Task Pause_resume_stats_and_update()
    {
        await vm.CreateAsync("ticker", ["sh", "-c", "while true; do echo tick; sleep 0.1; done"]);
        try
        {
            await Agent.StartContainerAsync("ticker");
            Assert.StartsWith("tick", Encoding.UTF8.GetString((await Agent.ReadStdoutAsync("ticker", null)).Span));

            await Agent.PauseContainerAsync("ticker");
            var ex = await Assert.ThrowsAsync<StencilException>(() => Agent.PauseContainerAsync("ticker"));
            Assert.Equal(ErrorKind.FailedPrecondition, ex.Kind);
            Assert.Contains("cannot pause container \"ticker\" in paused state", ex.Message);
            var frozen1 = await Agent.StatsContainerAsync("ticker");
            await Task.Delay(1000);
            var frozen2 = await Agent.StatsContainerAsync("ticker");
            Assert.Equal(frozen1.CpuUsageMicros, frozen2.CpuUsageMicros);

            await Agent.ResumeContainerAsync("ticker");
            await Task.Delay(1000);
            var running = await Agent.StatsContainerAsync("ticker");
            Assert.True(running.CpuUsageMicros > frozen2.CpuUsageMicros, $"cpu {running.CpuUsageMicros} after resume, {frozen2.CpuUsageMicros} before");
            Assert.True(running.MemoryUsageBytes > 0);
            Assert.InRange(running.PidsCurrent, 1UL, 10UL);
            Assert.Equal(0UL, running.PidsLimit);

            await Agent.UpdateContainerAsync("ticker", """{"pids":{"limit":50}}"""u8.ToArray());
            Assert.Equal(50UL, (await Agent.StatsContainerAsync("ticker")).PidsLimit);
            output.WriteLine($"stats: {running}");
        }
        finally
        {
            await Agent.RemoveContainerAsync("ticker", force: true);
        }
    }

    [Fact]
    public async Task Two_containers_run_side_by_side()
    {
        await vm.CreateAsync("left", ["sh", "-c", "read x; echo left $x"]);
        await vm.CreateAsync("right", ["sh", "-c", "read x; echo right $x"]);
        try
        {
            await Agent.StartContainerAsync("left");
            await Agent.StartContainerAsync("right");
            await Agent.WriteStdinAsync("right", null, "2\n"u8.ToArray());
            await Agent.WriteStdinAsync("left", null, "1\n"u8.ToArray());
            Assert.Equal("right 2\n", await vm.ReadAllAsync("right"));
            Assert.Equal("left 1\n", await vm.ReadAllAsync("left"));
            Assert.Equal(0, (await vm.WaitAsync("left")).ExitCode);
            Assert.Equal(0, (await vm.WaitAsync("right")).ExitCode);
        }
        finally
        {
            await Agent.RemoveContainerAsync("left", force: true);
            await Agent.RemoveContainerAsync("right", force: true);
        }
    }

    [Fact]
    public async Task Shared_file_and_folder_are_bind_mounted()
    {
        // As the runtime layer does for CRI's resolv.conf/hosts and volumes: each host bind source is
        // shared as its own storage, and the spec binds "mounts/N" from the bundle.
        var files = Path.Combine(vm.ShareDir, "binds");
        Directory.CreateDirectory(Path.Combine(files, "vol"));
        File.WriteAllText(Path.Combine(files, "greeting"), "hi from a file\n");
        File.WriteAllText(Path.Combine(files, "vol", "data"), "hi from a folder\n");
        var spec = TestSpecs.Spec(["sh", "-c", "cat /etc/greeting /srv/vol/data; echo x > /etc/greeting || echo read-only"]);
        var mounts = spec["mounts"]!.AsArray();
        mounts.Add(new System.Text.Json.Nodes.JsonObject { ["destination"] = "/etc/greeting", ["type"] = "bind", ["source"] = "mounts/0", ["options"] = new System.Text.Json.Nodes.JsonArray("rbind", "ro") });
        mounts.Add(new System.Text.Json.Nodes.JsonObject { ["destination"] = "/srv/vol", ["type"] = "bind", ["source"] = "mounts/1", ["options"] = new System.Text.Json.Nodes.JsonArray("rbind") });
        await Agent.CreateContainerAsync(new ContainerConfig("binds", Encoding.UTF8.GetBytes(spec.ToJsonString()),
            [StorageMount.Shared("rootfs", "rootfs"), StorageMount.Shared("binds/greeting", "mounts/0", ["ro"]), StorageMount.Shared("binds/vol", "mounts/1")]));
        try
        {
            await Agent.StartContainerAsync("binds");
            var stdout = vm.ReadAllAsync("binds");
            var stderr = vm.ReadAllAsync("binds", stream: StdioStream.Stderr);
            Assert.Equal("hi from a file\nhi from a folder\nread-only\n", await stdout);
            Assert.Contains("Read-only file system", await stderr);
        }
        finally
        {
            await Agent.RemoveContainerAsync("binds", force: true);
            Directory.Delete(files, recursive: true);
        }
    }

    [Fact]
    public async Task Oom_kill_is_reported()
    {
        var oom = Agent.GetOomEventAsync();
        await vm.CreateAsync("hog", TestSpecs.SpecJson(["sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1"], memoryLimit: 16 << 20));
        try
        {
            await Agent.StartContainerAsync("hog");
            Assert.Equal(137, (await vm.WaitAsync("hog")).ExitCode);
            Assert.Equal("hog", await oom.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.True((await Agent.StatsContainerAsync("hog")).OomKills >= 1);
        }
        finally
        {
            await Agent.RemoveContainerAsync("hog", force: true);
        }
    }
}
