using System.Diagnostics;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Agent.Containers;

// The OCI runtime run once on a throw-away container, for a VM that is made ahead of its pod.
internal sealed partial class ContainerManager
{
    private const string WarmUpDir = "/run/stencil-warmup";

    // A container shaped like the ones containerd asks for (its own pid, ipc, uts, mount and network
    // namespaces, a cgroup, containerd's default mounts, masked and read-only paths, a read-only root),
    // whose init sleeps until it is deleted.
    private const string WarmUpSpec = """
        {"ociVersion":"1.1.0",
         "process":{"user":{"uid":0,"gid":0},"args":["/bin/busybox","sleep","60"],"env":["PATH=/bin"],"cwd":"/",
           "capabilities":{"bounding":["CAP_CHOWN"],"effective":["CAP_CHOWN"],"permitted":["CAP_CHOWN"]},"noNewPrivileges":true},
         "root":{"path":"rootfs","readonly":true},
         "hostname":"warmup",
         "mounts":[{"destination":"/proc","type":"proc","source":"proc","options":["nosuid","noexec","nodev"]},
           {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=1024k"]},
           {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},
           {"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=1024k"]},
           {"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},
           {"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},
           {"destination":"/run","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=1024k"]}],
         "linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"network"}],
           "cgroupsPath":"/stencil-warmup","resources":{"pids":{"limit":64}},
           "maskedPaths":["/proc/kcore","/proc/keys","/proc/timer_list","/sys/firmware"],
           "readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]}}
        """;

    // The process the warm-up execs in it, as an ExecSync or `ctr task exec` would.
    private const string WarmUpProcess = """
        {"user":{"uid":0,"gid":0},"args":["/bin/busybox","true"],"env":["PATH=/bin"],"cwd":"/",
         "capabilities":{"bounding":["CAP_CHOWN"],"effective":["CAP_CHOWN"],"permitted":["CAP_CHOWN"]},"noNewPrivileges":true}
        """;

    /// <summary>
    /// Takes a throw-away container through what a pod's first container goes through: the OCI
    /// runtime's create, the start, one exec, and the delete, on a read-only bind of the guest's own
    /// root. Under TCG each QEMU process translates guest code afresh, so a clone made ahead of its pod
    /// (the factory's pool) pays the translation of the runtime's and the kernel's container code here
    /// instead of in the pod's first create and exec; with the guest's address randomization off
    /// ([hypervisor] guest_address_randomization), the runtime's code sits at the same addresses in
    /// every later call, so that translation is found again. Leaves nothing behind.
    /// </summary>
    internal async Task<TimeSpan> WarmUpAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        // The agent's own part of a create, translated in this QEMU process too (the template's run of it,
        // before the snapshot, paid the one-time .NET costs, but its translated code died with the template's
        // QEMU): the spec's parse and rewrite, and a sysctl written as a sandbox container's are.
        SpecWarmup.Run();
        await WarmUpSysctlsAsync(cancellationToken).ConfigureAwait(false);
        var bundle = Path.Combine(WarmUpDir, "bundle");
        var rootfs = Path.Combine(bundle, "rootfs");
        Directory.CreateDirectory(rootfs);
        var mounted = false;
        try
        {
            if (Libc.Mount("/", rootfs, null, LibC.MS_BIND, null) != 0)
                throw Errno.LastException($"bind mount / on {rootfs}");
            mounted = true;
            await File.WriteAllTextAsync(Path.Combine(bundle, "config.json"), WarmUpSpec, cancellationToken).ConfigureAwait(false);
            var id = "stencil-warmup-" + Environment.TickCount64.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await WarmUpContainerAsync(PickRuntime(""), id, bundle, cancellationToken).ConfigureAwait(false);
            return clock.Elapsed;
        }
        finally
        {
            // Never a recursive delete: while the bind is there, rootfs IS the guest's root.
            var unmounted = !mounted || Libc.Umount2(rootfs, LibC.MNT_DETACH) == 0;
            try
            {
                File.Delete(Path.Combine(bundle, "config.json"));
                if (unmounted)
                {
                    Directory.Delete(rootfs);
                    Directory.Delete(bundle);
                    foreach (var log in Directory.EnumerateFiles(WarmUpDir))
                        File.Delete(log);
                    Directory.Delete(WarmUpDir);
                }
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// A network sysctl classified and written as CreateContainer does for a sandbox container (the one
    /// containerd 2.x gives every pod), with the value it already has: nothing changes. Best effort.
    /// </summary>
    private async Task WarmUpSysctlsAsync(CancellationToken cancellationToken)
    {
        const string name = "net.ipv4.ip_unprivileged_port_start";
        var path = Pod.PodSysctls.ProcPath(name);
        try
        {
            var value = (await _syscalls.ReadTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim();
            _ = Pod.PodSysctls.Classify([new Pod.Sysctl(name, value)]);
            await WriteSysctlsAsync([(path, value)], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StencilException or IOException or UnauthorizedAccessException)
        {
            _log.Debug($"warm-up: sysctl {name} not rewritten: {e.Message}");
        }
    }

    private async Task WarmUpContainerAsync(IOciRuntime runtime, string id, string bundle, CancellationToken cancellationToken)
    {
        var initPidFile = Path.Combine(WarmUpDir, "init.pid");
        var execPidFile = Path.Combine(WarmUpDir, "exec.pid");
        var processFile = Path.Combine(WarmUpDir, "process.json");
        using var initIo = _syscalls.CreatePipes(out var initStdio);
        var created = false;
        try
        {
            try
            {
                await runtime.RunAsync("warm-up create", cl => cl.Create(id, bundle, initPidFile, null), WarmUpDir, initStdio, cancellationToken)
                    .ConfigureAwait(false);
                created = true;
            }
            finally
            {
                initStdio.Close();
            }
            if (!runtime.TryStartDirectly(id))
                await runtime.RunAsync("warm-up start", cl => cl.Start(id), WarmUpDir, null, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(processFile, WarmUpProcess, cancellationToken).ConfigureAwait(false);
            using var execIo = _syscalls.CreatePipes(out var execStdio);
            try
            {
                await runtime.RunAsync("warm-up exec", cl => cl.Exec(id, processFile, execPidFile, null), WarmUpDir, execStdio, cancellationToken)
                    .ConfigureAwait(false);
            }
            finally
            {
                execStdio.Close();
            }
            await _reaper.WaitAsync(await ReadPidAsync(execPidFile, cancellationToken).ConfigureAwait(false))
                .WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (created)
            {
                // --force kills the sleeping init; its exit is claimed so the reaper does not keep it.
                var init = await ReadPidAsync(initPidFile, CancellationToken.None).ConfigureAwait(false);
                await runtime.RunAsync("warm-up delete", cl => cl.Delete(id, force: true), WarmUpDir, null, CancellationToken.None).ConfigureAwait(false);
                await _reaper.WaitAsync(init).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task<int> ReadPidAsync(string pidFile, CancellationToken cancellationToken)
    {
        var text = (await _syscalls.ReadTextAsync(pidFile, cancellationToken).ConfigureAwait(false)).Trim();
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid) && pid > 0
            ? pid
            : throw StencilException.Internal($"warm-up: {pidFile} holds \"{text}\", not a pid");
    }
}
