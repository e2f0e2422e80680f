using Stencil.Oci;
using Stencil.Oci.Model;

namespace Stencil.Agent.Pod;

/// <summary>
/// What a CRI container of a pod without a pause container gets from its pod, as containerd's CRI
/// would have given it from the host: binds of the pod's hostname, hosts and resolv.conf files, and
/// the pod's one /dev/shm (a guest tmpfs shared by all its containers) in place of a tmpfs of its
/// own. Pure: the manager makes the shared tmpfs and passes its folder.
/// </summary>
internal static class PodMounts
{
    internal const string ShmDestination = "/dev/shm";

    /// <summary>The name of the pod's /dev/shm among the sandbox's tmpfs volumes (the shim's name for it too).</summary>
    internal const string ShmVolume = "shm";

    private static readonly (string File, string Destination)[] s_files =
    [
        (PodFiles.Hostname, "/etc/hostname"),
        (PodFiles.Hosts, "/etc/hosts"),
        (PodFiles.ResolvConf, "/etc/resolv.conf"),
    ];

    /// <summary>An application container (not a sandbox) of the CRI pod <paramref name="sandboxId"/>.</summary>
    internal static bool IsPodContainer(Spec spec, string sandboxId) =>
        spec.Annotations is { } a
        && a.TryGetValue(CriAnnotations.ContainerType, out var type) && type == CriAnnotations.ContainerTypeContainer
        && a.TryGetValue(CriAnnotations.SandboxId, out var id) && id == sandboxId;

    /// <summary>The container's own tmpfs at /dev/shm (containerd's default spec has one), or null.</summary>
    internal static Mount? PrivateShm(Spec spec) =>
        spec.Mounts?.LastOrDefault(m => m.Destination == ShmDestination && m.Type == "tmpfs" && !m.IsBind);

    /// <summary>
    /// Adds the pod files' binds where the spec mounts nothing at that place (kubelet often sends its own
    /// /etc/hosts), read-only when the root is; replaces a private /dev/shm tmpfs by a bind of
    /// <paramref name="podShm"/> (null: left alone), keeping its nosuid, nodev, noexec and ro.
    /// </summary>
    internal static void Apply(Spec spec, string filesDir, string? podShm)
    {
        spec.Mounts ??= [];
        var access = spec.Root?.Readonly == true ? "ro" : "rw";
        foreach (var (file, destination) in s_files)
        {
            if (spec.Mounts.Exists(m => m.Destination == destination))
                continue;
            spec.Mounts.Add(new Mount
            {
                Destination = destination,
                Type = "bind",
                Source = Path.Combine(filesDir, file),
                Options = ["rbind", "rprivate", access],
            });
        }
        if (podShm is not null && PrivateShm(spec) is { } shm)
        {
            var flags = (shm.Options ?? []).Where(o => o is "nosuid" or "nodev" or "noexec" or "ro");
            spec.Mounts[spec.Mounts.IndexOf(shm)] = new Mount
            {
                Destination = ShmDestination,
                Type = "bind",
                Source = podShm,
                Options = ["rbind", "rprivate", .. flags],
            };
        }
    }
}
