using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.Task;
using Stencil.Shim.Tests;
using Stencil.TestSupport;
using Ev = Stencil.Protocols.Containerd.Events;
using ProtoStatus = Stencil.Protocols.Containerd.Types.V1.Status;

namespace Stencil.Shim.Tests.EndToEnd;

/// <summary>
/// The published containerd-shim-stencil-v2 run as containerd runs it (start, the Task API on the
/// socket it prints, delete), with the simulated runtime (the test host shim, build/test-bin).
/// </summary>
public sealed class ShimBinaryTests
{
    [Fact]
    public async Task Start_prints_the_address_fast_and_the_daemon_serves_a_task_lifecycle()
    {
        await using var bed = ShimTestBed.Create();
        var (bundle, log) = bed.Bundle("c1", ["sleep", "1000"]);

        var start = await bed.StartAsync("c1", bundle);

        Assert.True(start.ExitCode == 0, start.Stderr);
        Assert.Equal("", start.Stderr);
        Assert.Matches($"^unix://{bed.SocketDir}/[0-9a-f]{{64}}$", start.StdoutText);
        // Far below a VM start; generous for a loaded machine (CI runs VMs beside it).
        Assert.True(start.Elapsed < TimeSpan.FromSeconds(5), $"start took {start.Elapsed}");
        Assert.Equal(start.StdoutText, File.ReadAllText(Path.Combine(bundle, "address")));

        await using var client = await bed.ConnectAsync(start.StdoutText);
        var connect = await ShimTestBed.CallAsync<ConnectRequest, ConnectResponse>(client, "Connect", new ConnectRequest { Id = "c1" });
        var daemon = (int)connect.ShimPid;
        bed.Track(daemon);
        Assert.True(ShimTestBed.IsRunning(daemon));
        Assert.Equal(0u, connect.TaskPid);

        var created = await ShimTestBed.CallAsync<CreateTaskRequest, CreateTaskResponse>(client, "Create",
            new CreateTaskRequest { Id = "c1", Bundle = bundle, Stdout = "/dev/null" });
        var started = await ShimTestBed.CallAsync<StartRequest, StartResponse>(client, "Start", new StartRequest { Id = "c1" });
        var wait = ShimTestBed.CallAsync<WaitRequest, WaitResponse>(client, "Wait", new WaitRequest { Id = "c1" });
        var running = await ShimTestBed.CallAsync<StateRequest, StateResponse>(client, "State", new StateRequest { Id = "c1" });
        await ShimTestBed.CallAsync<KillRequest, Empty>(client, "Kill", new KillRequest { Id = "c1", Signal = 9 });
        var exit = await wait;
        var stopped = await ShimTestBed.CallAsync<StateRequest, StateResponse>(client, "State", new StateRequest { Id = "c1" });
        var deleted = await ShimTestBed.CallAsync<DeleteRequest, DeleteResponse>(client, "Delete", new DeleteRequest { Id = "c1" });

        Assert.Equal(created.Pid, started.Pid);
        Assert.Equal((ProtoStatus.Running, -62135596800L), (running.Status, running.ExitedAt.Seconds));
        Assert.Equal(137u, exit.ExitStatus);
        Assert.Equal((ProtoStatus.Stopped, 137u), (stopped.Status, stopped.ExitStatus));
        Assert.Equal(137u, deleted.ExitStatus);

        await bed.Events.WaitForAsync(4);
        var events = bed.Events.Received.ToArray();
        Assert.Equal(["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"], events.Select(e => e.Envelope.Topic));
        Assert.All(events, e => Assert.Equal(ShimTestBed.Namespace, e.Namespace));
        Assert.Equal("containerd.events.TaskExit", events[2].Envelope.Event.TypeUrl);
        Assert.Equal(137u, Ev.TaskExit.Parser.ParseFrom(events[2].Envelope.Event.Value).ExitStatus);

        await ShimTestBed.CallAsync<ShutdownRequest, Empty>(client, "Shutdown", new ShutdownRequest { Id = "c1" });
        await ShimTestBed.WaitForExitAsync(daemon, TimeSpan.FromSeconds(5));
        Assert.False(File.Exists(start.StdoutText["unix://".Length..]));
        Assert.Empty(bed.RunningDaemons());
        var text = await log.WaitForAsync("msg=\"shim daemon exited\"");
        Assert.Matches("""time="[0-9T:.-]+Z" level=info msg="shim daemon serving" id=c1 namespace=default pid=[0-9]+ socket=""", text);
    }

    [Fact]
    public async Task Every_container_of_a_pod_gets_the_one_daemon_of_that_pod()
    {
        await using var bed = ShimTestBed.Create();
        var (sandbox, _) = bed.Bundle("pod1", ["pause"], sandboxId: "pod1", sandbox: true);
        var (app, _) = bed.Bundle("app1", ["sleep", "1000"], sandboxId: "pod1", sandbox: false);
        var (other, _) = bed.Bundle("pod2", ["pause"], sandboxId: "pod2", sandbox: true);

        var first = await bed.StartAsync("pod1", sandbox);
        var second = await bed.StartAsync("app1", app);
        var third = await bed.StartAsync("pod2", other);

        Assert.Equal((0, 0, 0), (first.ExitCode, second.ExitCode, third.ExitCode));
        Assert.Equal(first.StdoutText, second.StdoutText);
        Assert.NotEqual(first.StdoutText, third.StdoutText);
        Assert.Equal(first.StdoutText, File.ReadAllText(Path.Combine(app, "address")));
        Assert.Equal(2, bed.RunningDaemons().Count);

        await using var one = await bed.ConnectAsync(first.StdoutText);
        await using var two = await bed.ConnectAsync(second.StdoutText);
        var pid1 = (await ShimTestBed.CallAsync<ConnectRequest, ConnectResponse>(one, "Connect", new ConnectRequest { Id = "pod1" })).ShimPid;
        var pid2 = (await ShimTestBed.CallAsync<ConnectRequest, ConnectResponse>(two, "Connect", new ConnectRequest { Id = "app1" })).ShimPid;
        Assert.Equal(pid1, pid2);

        // Two containers in the pod: Shutdown without `now` after deleting one keeps the daemon.
        await ShimTestBed.CallAsync<CreateTaskRequest, CreateTaskResponse>(one, "Create", new CreateTaskRequest { Id = "pod1", Bundle = sandbox });
        await ShimTestBed.CallAsync<CreateTaskRequest, CreateTaskResponse>(one, "Create", new CreateTaskRequest { Id = "app1", Bundle = app });
        await ShimTestBed.CallAsync<DeleteRequest, DeleteResponse>(one, "Delete", new DeleteRequest { Id = "app1" });
        await ShimTestBed.CallAsync<ShutdownRequest, Empty>(one, "Shutdown", new ShutdownRequest { Id = "app1" });
        await Task.Delay(200);
        Assert.True(ShimTestBed.IsRunning((int)pid1));

        await ShimTestBed.CallAsync<ShutdownRequest, Empty>(one, "Shutdown", new ShutdownRequest { Id = "pod1", Now = true });
        await ShimTestBed.WaitForExitAsync((int)pid1, TimeSpan.FromSeconds(5));
        Assert.Single(bed.RunningDaemons()); // pod2's; the bed kills it
    }

    [Fact]
    public async Task Delete_prints_a_DeleteResponse_and_cleans_the_container_without_a_daemon()
    {
        await using var bed = ShimTestBed.Create();
        var (bundle, _) = bed.Bundle("c1", ["sleep", "1000"]);
        var start = await bed.StartAsync("c1", bundle);
        await using (var client = await bed.ConnectAsync(start.StdoutText))
        {
            var pid = (await ShimTestBed.CallAsync<ConnectRequest, ConnectResponse>(client, "Connect", new ConnectRequest { Id = "c1" })).ShimPid;
            bed.Track((int)pid);
            await ShimTestBed.CallAsync<ShutdownRequest, Empty>(client, "Shutdown", new ShutdownRequest { Id = "c1", Now = true });
            await ShimTestBed.WaitForExitAsync((int)pid, TimeSpan.FromSeconds(5));
        }
        var paths = new Runtime.Configuration.StatePaths(bed.StateDir);
        Directory.CreateDirectory(paths.ContainerRootfs(ShimTestBed.Namespace, "c1", "c1"));
        Directory.CreateDirectory(paths.ContainerDir(ShimTestBed.Namespace, "c1", "c1"));
        Directory.CreateDirectory(paths.VmDir(ShimTestBed.Namespace, "c1"));

        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var delete = await bed.DeleteAsync("c1", bundle);

        Assert.True(delete.ExitCode == 0, delete.Stderr);
        var response = DeleteResponse.Parser.ParseFrom(delete.Stdout);
        Assert.Equal(137u, response.ExitStatus);
        Assert.InRange(response.ExitedAt.ToDateTimeOffset(), before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.False(Directory.Exists(paths.PodDir(ShimTestBed.Namespace, "c1")));
        Assert.False(Directory.Exists(paths.VmDir(ShimTestBed.Namespace, "c1")));
    }

    [Fact]
    public async Task Delete_works_for_a_bundle_it_never_saw()
    {
        await using var bed = ShimTestBed.Create();
        var (bundle, _) = bed.Bundle("c9", ["true"]);

        var delete = await bed.DeleteAsync("c9", bundle);

        Assert.True(delete.ExitCode == 0, delete.Stderr);
        Assert.Equal(137u, DeleteResponse.Parser.ParseFrom(delete.Stdout).ExitStatus);
    }

    [Fact]
    public async Task A_bad_configuration_fails_start_with_the_reason_and_leaves_nothing()
    {
        await using var bed = ShimTestBed.Create();
        var (bundle, _) = bed.Bundle("c1", ["true"]);
        var bad = Path.Combine(bed.Root, "bad.toml");
        File.WriteAllText(bad, $"[runtime]\nshim_socket_dir = \"{bed.SocketDir}\"\nstate_dirr = \"/x\"\n");

        var start = await bed.StartAsync("c1", bundle, bed.RuntimeOptions(bad));

        Assert.Equal(1, start.ExitCode);
        Assert.Empty(start.Stdout);
        Assert.Contains($"{bad}: unknown key runtime.state_dirr = \"/x\"", start.Stderr);
        Assert.Empty(bed.RunningDaemons());
        Assert.False(Directory.Exists(bed.SocketDir) && Directory.EnumerateFileSystemEntries(bed.SocketDir).Any());
    }

    [Fact]
    public async Task A_daemon_that_fails_to_start_makes_start_fail_with_its_reason()
    {
        await using var bed = ShimTestBed.Create();
        var (bundle, _) = bed.Bundle("c1", ["true"], annotations: new() { ["io.stencil.test/fail-runtime-create"] = "no VM for you" });

        var start = await bed.StartAsync("c1", bundle);

        Assert.Equal(1, start.ExitCode);
        Assert.Empty(start.Stdout);
        Assert.Equal("containerd-shim-stencil-v2 start c1: no VM for you\n", start.Stderr);
        Assert.Empty(bed.RunningDaemons());
        Assert.Empty(Directory.EnumerateFileSystemEntries(bed.SocketDir));
    }

    [Fact]
    public async Task An_unknown_flag_is_a_clear_error_not_a_crash()
    {
        await using var bed = ShimTestBed.Create();

        var run = await bed.RunAsync(bed.Root, [], ["-namespace", "default", "-id", "c1", "-runtime-root", "/x", "start"]);

        Assert.Equal(1, run.ExitCode);
        Assert.Empty(run.Stdout);
        Assert.StartsWith("containerd-shim-stencil-v2: flag provided but not defined: -runtime-root\n", run.Stderr);
    }

    [Fact]
    public async Task SIGTERM_shuts_the_daemon_down_and_removes_its_socket()
    {
        await using var bed = ShimTestBed.Create();
        var (bundle, log) = bed.Bundle("c1", ["sleep", "1000"]);
        var start = await bed.StartAsync("c1", bundle, null, "-debug");
        int pid;
        await using (var client = await bed.ConnectAsync(start.StdoutText))
            pid = (int)(await ShimTestBed.CallAsync<ConnectRequest, ConnectResponse>(client, "Connect", new ConnectRequest { Id = "c1" })).ShimPid;
        bed.Track(pid);

        System.Diagnostics.Process.Start("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        await ShimTestBed.WaitForExitAsync(pid, TimeSpan.FromSeconds(5));

        Assert.False(File.Exists(start.StdoutText["unix://".Length..]));
        var text = await log.WaitForAsync("msg=\"shim daemon exited\"");
        Assert.Contains("level=info msg=\"received SIGTERM, shutting down\"", text);
        Assert.Contains("level=debug msg=Connect", text);
    }

    /// <summary>The bundle's disk full when `start` writes its files there: start fails naming the file and
    /// the reason, no daemon is started, and neither the socket nor a temporary file stays.</summary>
    [Fact]
    public async Task Start_on_a_full_bundle_disk_fails_naming_it_and_leaves_nothing()
    {
        await using var bed = ShimTestBed.Create();
        var bundleDir = Path.Combine(Path.GetDirectoryName(bed.StateDir)!, "bundles", "full");
        Directory.CreateDirectory(bundleDir);
        (await ChildProcess.RunAsync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", bundleDir], TimeSpan.FromSeconds(10))).EnsureSuccess("mount a small tmpfs");
        try
        {
            var (bundle, _) = bed.Bundle("full", ["true"]);
            Assert.Equal(bundleDir, bundle);
            try
            {
                using var filler = new FileStream(Path.Combine(bundle, "filler"), FileMode.Create);
                while (true)
                    filler.Write(new byte[4096]);
            }
            catch (IOException)
            {
                // full
            }

            var start = await bed.StartAsync("full", bundle);

            Assert.NotEqual(0, start.ExitCode);
            Assert.Contains("No space left on device", start.Stderr);
            Assert.Contains(bundle, start.Stderr);
            Assert.Empty(bed.RunningDaemons());
            Assert.Empty(Directory.Exists(bed.SocketDir) ? Directory.GetFileSystemEntries(bed.SocketDir) : []);
            Assert.Empty(Directory.GetFiles(bundle, "*.tmp"));
        }
        finally
        {
            await ChildProcess.RunAsync("umount", ["-l", bundleDir], TimeSpan.FromSeconds(10));
        }
    }
}
