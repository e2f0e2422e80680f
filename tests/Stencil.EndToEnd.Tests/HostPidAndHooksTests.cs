using System.Globalization;
using System.Text.Json.Nodes;
using Stencil.TestSupport;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// What nerdctl- and Docker-style clients rely on: a task pid that is a host process in the pod's network
/// namespace (the pod holder), OCI hooks run on the host with the state on stdin, and the interfaces a
/// hook puts into that namespace plugged into the VM (what nerdctl's createRuntime hook does with CNI).
/// nerdctl itself cannot be installed here; these run the same steps with ctr and the CNI plugins.
/// </summary>
[Collection(StencilCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HostPidAndHooksTests(StencilContainerd s)
{
    private const string R = StencilContainerd.Runtime;
    private const string I = StencilContainerd.Image;
    private const string CniDir = "/usr/lib/cni";

    [Fact]
    public async Task The_task_pid_is_a_host_process_in_a_network_namespace_of_its_own_that_ends_with_the_pod()
    {
        var run = await s.Ctr("run", "-d", "--runtime", R, I, "e2e-hostpid", "sleep", "3600");
        Assert.True(run.ExitCode == 0, $"ctr run: {run.Stderr}\n{s.Containerd.ReadLog()}");
        var pid = await TaskPidAsync("e2e-hostpid");

        var cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        Assert.Contains("stencil-pod-holder", cmdline);
        Assert.NotEqual(Link("/proc/self/ns/net"), Link($"/proc/{pid}/ns/net")); // the pod's own namespace, not the host's
        // `ctr task ps` still lists the guest's processes (the container's sleep is not the holder).
        var ps = (await s.Ctr("task", "ps", "e2e-hostpid")).EnsureSuccess("ctr task ps");
        Assert.DoesNotContain(pid.ToString(CultureInfo.InvariantCulture), ps.Split('\n').Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()));

        (await s.Ctr("task", "kill", "-s", "KILL", "e2e-hostpid")).EnsureSuccess("ctr task kill");
        await Eventually.UntilAsync(async () => (await s.Ctr("task", "rm", "e2e-hostpid")).ExitCode == 0, "the task is deleted");
        (await s.Ctr("containers", "rm", "e2e-hostpid")).EnsureSuccess("ctr containers rm");
        await Eventually.UntilAsync(() => Task.FromResult(!Directory.Exists($"/proc/{pid}")), $"holder {pid} is gone");
        await Eventually.NothingLeftAsync(s);
    }

    [Fact]
    public async Task Hooks_run_on_the_host_and_a_network_a_createRuntime_hook_makes_with_CNI_reaches_the_container()
    {
        foreach (var plugin in new[] { "bridge", "host-local" })
            Assert.True(File.Exists(Path.Combine(CniDir, plugin)), $"{CniDir}/{plugin} is missing (apt-get install containernetworking-plugins)");
        var dir = Directory.CreateDirectory(Path.Combine(s.Dir, "hooks-net")).FullName;
        // A /24 no other test uses, on a bridge of its own.
        File.WriteAllText(Path.Combine(dir, "net.json"), new JsonObject
        {
            ["cniVersion"] = "1.0.0", ["name"] = "stencil-e2e-hook", ["type"] = "bridge", ["bridge"] = "stnhook0",
            ["isGateway"] = true, ["ipMasq"] = false,
            ["ipam"] = new JsonObject { ["type"] = "host-local", ["subnet"] = "10.88.93.0/24", ["dataDir"] = $"{dir}/ipam" },
        }.ToJsonString());
        // What nerdctl's createRuntime hook does: CNI ADD in the netns of the state's pid; poststop: CNI DEL.
        var cni = Script(dir, "cni.sh", $$"""
            #!/bin/sh
            state=$(cat)
            echo "$1 $state" >> {{dir}}/states
            pid=$(echo "$state" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
            [ "$1" = poststart ] && exit 0
            command=ADD; [ "$1" = poststop ] && command=DEL
            CNI_COMMAND=$command CNI_CONTAINERID=e2e-hooknet CNI_NETNS=/proc/$pid/ns/net CNI_IFNAME=eth0 CNI_PATH={{CniDir}} \
              {{CniDir}}/bridge < {{dir}}/net.json > {{dir}}/cni-$1.json
            """);
        var rootfs = BusyboxRootfs(dir, "httpd");
        Directory.CreateDirectory(Path.Combine(rootfs, "www"));
        File.WriteAllText(Path.Combine(rootfs, "www", "index.html"), "hooked-ok\n");

        var spec = await SpecAsync(rootfs, ["httpd", "-f", "-p", "8080", "-h", "/www"]);
        spec["hooks"] = new JsonObject
        {
            ["createRuntime"] = new JsonArray(Hook(cni, "createRuntime")),
            ["poststart"] = new JsonArray(Hook(cni, "poststart")),
            ["poststop"] = new JsonArray(Hook(cni, "poststop")),
        };
        var specPath = Path.Combine(dir, "config.json");
        File.WriteAllText(specPath, spec.ToJsonString());

        var run = await s.Ctr("run", "-d", "--runtime", R, "--config", specPath, "e2e-hooknet");
        try
        {
            Assert.True(run.ExitCode == 0, $"ctr run: {run.Stderr}\n{s.Containerd.ReadLog()}");
            var pid = await TaskPidAsync("e2e-hooknet");
            var states = File.ReadAllLines(Path.Combine(dir, "states"));
            Assert.StartsWith("createRuntime {", states[0]);
            Assert.Contains("\"id\":\"e2e-hooknet\"", states[0]);
            Assert.Contains("\"status\":\"creating\"", states[0]);
            Assert.Contains($"\"pid\":{pid}", states[0]);
            Assert.Contains("\"bundle\":\"", states[0]);
            Assert.Contains(states, l => l.StartsWith("poststart {", StringComparison.Ordinal) && l.Contains("\"status\":\"running\"", StringComparison.Ordinal));

            // The address CNI gave the namespace is the container's: the host reaches its httpd through the bridge.
            var address = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "cni-createRuntime.json")))!["ips"]![0]!["address"]!.GetValue<string>().Split('/')[0];
            var body = await GetWhenUpAsync($"http://{address}:8080/index.html");
            Assert.Equal("hooked-ok\n", body);
        }
        finally
        {
            await s.Ctr("task", "kill", "-s", "KILL", "e2e-hooknet");
            await Eventually.UntilAsync(async () => (await s.Ctr("task", "rm", "e2e-hooknet")).ExitCode == 0 || (await s.Ctr("task", "ls", "-q")).Stdout.Contains("e2e-hooknet") == false, "the task is deleted");
            await s.Ctr("containers", "rm", "e2e-hooknet");
            await ChildProcess.RunAsync("ip", ["link", "del", "stnhook0"], TimeSpan.FromSeconds(10)); // CNI DEL leaves the bridge
        }
        // poststop ran (status stopped) before the namespace went, and CNI DEL found it.
        Assert.Contains(File.ReadAllLines(Path.Combine(dir, "states")), l => l.StartsWith("poststop {", StringComparison.Ordinal) && l.Contains("\"status\":\"stopped\"", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "ipam", "stencil-e2e-hook"), "10.*")); // the address went back
        await Eventually.NothingLeftAsync(s);
    }

    /// <summary>
    /// `ctr run --cni`: ctr runs CNI itself on /proc/PID/ns/net of the task pid, between create and start,
    /// with /etc/cni/net.d and /opt/cni/bin; this test gives ctr its own (bind mounts in a private mount
    /// namespace, so the host's CNI folders are not touched).
    /// </summary>
    [Fact]
    public async Task Ctr_run_cni_gives_the_container_an_address_the_host_reaches()
    {
        foreach (var plugin in new[] { "bridge", "host-local", "loopback" })
            Assert.True(File.Exists(Path.Combine(CniDir, plugin)), $"{CniDir}/{plugin} is missing (apt-get install containernetworking-plugins)");
        var dir = Directory.CreateDirectory(Path.Combine(s.Dir, "ctr-cni")).FullName;
        var netd = Directory.CreateDirectory(Path.Combine(dir, "net.d")).FullName;
        File.WriteAllText(Path.Combine(netd, "10-e2e.conflist"), new JsonObject
        {
            ["cniVersion"] = "1.0.0", ["name"] = "stencil-e2e-ctrcni",
            ["plugins"] = new JsonArray(new JsonObject
            {
                ["type"] = "bridge", ["bridge"] = "stncni0", ["isGateway"] = true, ["ipMasq"] = false,
                ["ipam"] = new JsonObject { ["type"] = "host-local", ["subnet"] = "10.88.94.0/24", ["dataDir"] = $"{dir}/ipam" },
            }),
        }.ToJsonString());
        // ctr's `task kill` also looks for the CNI configuration of a --cni container: both run with it.
        string WithCni(string ctrArguments) =>
            $"mkdir -p /etc/cni/net.d /opt/cni/bin && mount --bind {netd} /etc/cni/net.d && mount --bind {CniDir} /opt/cni/bin && "
            + $"exec ctr --address {s.Containerd.Address} {ctrArguments}";
        string[] Unshared(string ctrArguments) => ["--mount", "--propagation", "private", "sh", "-c", WithCni(ctrArguments)];
        await using var ctr = ChildProcess.Start("unshare", Unshared(
            $"run --rm --cni --runtime {R} {I} e2e-ctrcni sh -c 'mkdir /tmp/w && echo cni-ok > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w'"));
        var ipam = Path.Combine(dir, "ipam", "stencil-e2e-ctrcni");
        try
        {
            await Eventually.UntilAsync(() => Task.FromResult((Directory.Exists(ipam) && Directory.GetFiles(ipam, "10.*").Length > 0) || ctr.HasExited),
                "CNI gave the task an address");
            Assert.False(ctr.HasExited, $"ctr run --cni exited: {ctr.Stderr}\n{s.Containerd.ReadLog()}");
            var address = Path.GetFileName(Directory.GetFiles(ipam, "10.*").Single());
            var body = await GetWhenUpAsync($"http://{address}:8080/index.html");
            Assert.Equal("cni-ok\n", body);
        }
        finally
        {
            await ChildProcess.RunAsync("unshare", Unshared("task kill -s KILL e2e-ctrcni"), TimeSpan.FromSeconds(30));
            await Eventually.UntilAsync(() => Task.FromResult(ctr.HasExited), "ctr run --rm --cni returns");
            await ChildProcess.RunAsync("ip", ["link", "del", "stncni0"], TimeSpan.FromSeconds(10)); // CNI DEL leaves the bridge
        }
        // ctr ran CNI DEL after the task: the address went back.
        Assert.Empty(Directory.GetFiles(ipam, "10.*"));
        await Eventually.NothingLeftAsync(s);
    }

    /// <summary>createContainer and startContainer hooks run in the container's namespaces, i.e. in the VM,
    /// from the container's root file system (createContainer's path is found there too).</summary>
    [Fact]
    public async Task CreateContainer_and_startContainer_hooks_run_in_the_guest_from_the_containers_root()
    {
        var dir = Directory.CreateDirectory(Path.Combine(s.Dir, "hooks-guest")).FullName;
        var rootfs = BusyboxRootfs(dir, "cat", "dirname");
        Directory.CreateDirectory(Path.Combine(rootfs, "hooks"));
        // $0 is the script's path as the runtime ran it: under the container's root in the guest for createContainer.
        Script(Path.Combine(rootfs, "hooks"), "mark.sh", "#!/bin/sh\necho \"$1 $(cat /proc/sys/kernel/osrelease)\" > \"$(dirname \"$0\")/$1.txt\"\n");
        var spec = await SpecAsync(rootfs, ["cat", "/hooks/startContainer.txt"]);
        spec["hooks"] = new JsonObject
        {
            ["createContainer"] = new JsonArray(new JsonObject { ["path"] = "/hooks/mark.sh", ["args"] = new JsonArray("mark.sh", "createContainer") }),
            ["startContainer"] = new JsonArray(new JsonObject { ["path"] = "/hooks/mark.sh", ["args"] = new JsonArray("mark.sh", "startContainer") }),
        };
        var specPath = Path.Combine(dir, "config.json");
        File.WriteAllText(specPath, spec.ToJsonString());

        var run = await s.Ctr("run", "--rm", "--runtime", R, "--config", specPath, "e2e-hookguest");
        Assert.True(run.ExitCode == 0, $"ctr run: {run.Stderr}\n{s.Containerd.ReadLog()}");
        var guestKernel = run.Stdout.Trim().Split(' ')[1];
        Assert.Equal($"startContainer {guestKernel}", run.Stdout.Trim()); // the container saw what its startContainer hook wrote
        Assert.NotEqual(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), guestKernel); // the VM's kernel, not the host's
        Assert.Equal($"createContainer {guestKernel}", File.ReadAllText(Path.Combine(rootfs, "hooks", "createContainer.txt")).Trim());

        // A hook that is not in the container: the guest's runtime says which one, and the task does not run.
        spec["hooks"] = new JsonObject { ["startContainer"] = new JsonArray(new JsonObject { ["path"] = "/no-such-hook" }) };
        File.WriteAllText(specPath, spec.ToJsonString());
        var missing = await s.Ctr("run", "--rm", "--runtime", R, "--config", specPath, "e2e-hookmissing");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("error executing hook `/no-such-hook`", missing.Stderr);
        await s.Ctr("containers", "rm", "e2e-hookmissing");
        await Eventually.NothingLeftAsync(s);
    }

    [Fact]
    public async Task A_failing_hook_fails_the_create_with_the_hooks_own_message_and_leaves_nothing()
    {
        var dir = Directory.CreateDirectory(Path.Combine(s.Dir, "hooks-fail")).FullName;
        var failing = Script(dir, "fail.sh", "#!/bin/sh\necho 'the hook says no' >&2\nexit 3\n");
        var spec = await SpecAsync(BusyboxRootfs(dir, "true"), ["true"]);
        spec["hooks"] = new JsonObject { ["createRuntime"] = new JsonArray(Hook(failing, "x")) };
        var specPath = Path.Combine(dir, "config.json");
        File.WriteAllText(specPath, spec.ToJsonString());

        var run = await s.Ctr("run", "--rm", "--runtime", R, "--config", specPath, "e2e-hookfail");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains($"error running createRuntime hook #0 ({failing}): exit status 3", run.Stderr);
        Assert.Contains("the hook says no", run.Stderr);
        await s.Ctr("containers", "rm", "e2e-hookfail");
        await Eventually.NothingLeftAsync(s);
    }

    /// <summary>GET <paramref name="url"/> once the server answers (the guest's NIC and httpd take a moment).</summary>
    private static async Task<string> GetWhenUpAsync(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string? body = null;
        await Eventually.UntilAsync(async () =>
        {
            try
            {
                body = await http.GetStringAsync(url);
                return true;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, $"{url} answers");
        return body!;
    }

    private async Task<int> TaskPidAsync(string id)
    {
        var ls = (await s.Ctr("task", "ls")).EnsureSuccess("ctr task ls");
        var line = ls.Split('\n').First(l => l.StartsWith(id + " ", StringComparison.Ordinal));
        return int.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    private static string Link(string path) => File.ResolveLinkTarget(path, returnFinalTarget: false)!.ToString();

    private static JsonObject Hook(string path, string arg) => new() { ["path"] = path, ["args"] = new JsonArray(path, arg), ["timeout"] = 30 };

    private static string Script(string dir, string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text.Replace("\r", ""));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static string BusyboxRootfs(string dir, params string[] applets)
    {
        var rootfs = Directory.CreateDirectory(Path.Combine(dir, "rootfs")).FullName;
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        File.Copy("/bin/busybox", Path.Combine(rootfs, "bin", "busybox"), overwrite: true);
        foreach (var applet in applets.Append("sh"))
        {
            var link = Path.Combine(rootfs, "bin", applet);
            if (!File.Exists(link))
                File.CreateSymbolicLink(link, "busybox");
        }
        foreach (var folder in new[] { "proc", "sys", "dev", "tmp" })
            Directory.CreateDirectory(Path.Combine(rootfs, folder));
        return rootfs;
    }

    private async Task<JsonNode> SpecAsync(string rootfs, string[] args)
    {
        var spec = JsonNode.Parse((await s.Ctr("oci", "spec")).EnsureSuccess("ctr oci spec"))!;
        spec["root"] = new JsonObject { ["path"] = rootfs };
        spec["process"]!["args"] = new JsonArray([.. args.Select(a => (JsonNode)a)]);
        spec["process"]!["env"] = new JsonArray("PATH=/bin");
        return spec;
    }
}
