using Stencil.Agent.Containers;
using Stencil.Agent.Guest;
using Stencil.Interop;
using Stencil.Agent.Logging;
using Stencil.Agent.Pod;
using Stencil.Agent.Processes;
using Stencil.Agent.Service;
using Stencil.Agent.Transport;
using Stencil.Ttrpc;

namespace Stencil.Agent;

/// <summary>
/// stencil-agent: started by the guest's /init. Serves the agent API on the virtio-serial port
/// "stencil.agent" and on vsock port 1024 (when the guest has vsock). Outside a VM (development),
/// `stencil-agent --listen /path/to.sock` serves a unix socket instead.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        // The pod namespace holder's modes (the agent spawns its own binary): before anything else
        // starts, above all before any other thread (see NamespaceHolderProcess).
        if (NamespaceHolderProcess.TryRun(args) is { } exitCode)
            return exitCode;
        string? unixPath = null;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--listen" && i + 1 < args.Length)
                unixPath = args[++i];
            else if (args[i] is "--version")
            {
                Console.WriteLine(AgentVersion.Version);
                return 0;
            }
            else
            {
                Console.Error.WriteLine($"stencil-agent: unknown argument \"{args[i]}\" (usage: stencil-agent [--listen UNIX_SOCKET])");
                return 2;
            }
        }

        var inGuest = unixPath is null;
        AgentLog.Initialize(useKmsg: inGuest, debug: DebugRequested());

        // Orphans of the containers (the OCI runtime exits right after creating one) must come to
        // us, not to /init: only the agent knows their pids and wants their exit codes.
        if (Libc.SetChildSubreaper() != 0)
            AgentLog.Warn($"PR_SET_CHILD_SUBREAPER failed: errno {Errno.Last}");
        Reaper.Instance.Start();
        // A few pool threads up front: under TCG the pool's slow thread injection would add
        // latency whenever a handler briefly blocks (file reads in /sys and /proc).
        ThreadPool.SetMinThreads(4, 4);

        Directory.CreateDirectory(GuestPaths.ContainersRoot);
        Directory.CreateDirectory(GuestPaths.RuntimeStateRoot);

        // Each runtime from a sealed copy of its binary, made before serving so that a template's clones share it.
        var runtimes = OciRuntime.Discover().Select(r => r.WithSealedCopy()).ToList();
        if (runtimes.Count == 0)
            AgentLog.Warn("no OCI runtime (crun or runc) found: containers cannot run");
        // Before serving: in a template, this lands in the snapshot every clone starts from.
        SpecWarmup.Run();
        var sandbox = new Sandbox();
        var containers = new ContainerManager(sandbox, runtimes, new ContainerSyscalls(new StorageMounter(new BlockDeviceLocator())),
            Reaper.Instance, new OomWatcher(), AgentLogSink.Instance);
        var service = new AgentService(sandbox, containers, new Network(), new CpuMemOnliner());
        await using var server = new TtrpcServer();
        service.Register(server);

        using var stop = new CancellationTokenSource();
        try
        {
            if (unixPath is not null)
            {
                AgentLog.Info($"serving on {unixPath}");
                await server.ListenAsync(unixPath, stop.Token).ConfigureAwait(false);
            }
            else
            {
                var vsock = AgentTransports.ServeVsockAsync(server, stop.Token);
                await AgentTransports.ServeVirtioPortAsync(server, stop.Token).ConfigureAwait(false);
                await vsock.ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            AgentLog.Error($"fatal: {ex}");
            return 1;
        }
        return 0;
    }

    private static bool DebugRequested()
    {
        if (Environment.GetEnvironmentVariable("STENCIL_AGENT_DEBUG") == "1")
            return true;
        try
        {
            return File.ReadAllText("/proc/cmdline").Split(' ', StringSplitOptions.TrimEntries).Contains("stencil.debug");
        }
        catch (IOException)
        {
            return false;
        }
    }
}
