using System.Diagnostics;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Agent.Containers;

// The OCI runtime run once on a throw-away container, for a VM that is made ahead of its pod.
internal sealed partial class ContainerManager
{
    private const string WarmUpDir = "/run/stencil-warmup";

    // A container shaped like the ones containerd asks for (its own pid, ipc, uts, mount and network
    // namespaces, /proc, /dev, a read-only root), running the guest's own busybox `true`.
    private const string WarmUpSpec = """
        {"ociVersion":"1.1.0",
         "process":{"user":{"uid":0,"gid":0},"args":["/bin/busybox","true"],"env":["PATH=/bin"],"cwd":"/",
           "capabilities":{"bounding":["CAP_CHOWN"],"effective":["CAP_CHOWN"],"permitted":["CAP_CHOWN"]},"noNewPrivileges":true},
         "root":{"path":"rootfs","readonly":true},
         "hostname":"warmup",
         "mounts":[{"destination":"/proc","type":"proc","source":"proc","options":["nosuid","noexec","nodev"]},
           {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=1024k"]}],
         "linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"network"}],
           "maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"]}}
        """;

    /// <summary>
    /// Runs the OCI runtime once (`run`: create, start, wait, delete) on a throw-away container whose
    /// root is a read-only bind of the guest's own root. Under TCG each QEMU process translates guest
    /// code afresh, so a clone made ahead of its pod (the factory's pool) pays the runtime's and the
    /// kernel's container-setup code here instead of in the pod's first create. Leaves nothing behind.
    /// </summary>
    internal async Task<TimeSpan> WarmUpAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
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
            await PickRuntime("").RunAsync("warm-up run", cl => cl.Run(id, bundle), WarmUpDir, null, cancellationToken).ConfigureAwait(false);
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
}
