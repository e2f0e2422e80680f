using System.Security.Cryptography;
using System.Text;

namespace Stencil.Runtime.Configuration;

/// <summary>
/// The one description of where the runtime keeps per-pod state on the host ([runtime] state_dir,
/// a tmpfs). The shim daemon creates these folders; `containerd-shim-stencil-v2 delete` removes one
/// container's part of them even when the daemon is gone, so both must agree on this layout:
/// <code>
/// {state_dir}/pods/{namespace}/{pod}/                  PodDir
///     shared/                                          SharedDir: exported to the guest (9p)
///         {container}/rootfs                           ContainerRootfs: the container's rootfs mount point
///     containers/{container}/                          ContainerDir: host-side files of one container
/// {state_dir}/vm/{16 hex digits}/                      VmDir: the pod VM's sockets (QMP, agent, console)
/// {state_dir}/starts/                                  StartsDir: the last pod starts' timelines (`stencil starts`)
/// </code>
/// VmDir is named by a hash of (namespace, pod) because unix socket paths must fit in 108 bytes and pod
/// ids are 64 characters under CRI.
/// </summary>
public sealed class StatePaths
{
    public StatePaths(string stateDir)
    {
        if (string.IsNullOrEmpty(stateDir) || !stateDir.StartsWith('/'))
            throw StencilException.InvalidArgument($"state directory \"{stateDir}\" must be an absolute path");
        Root = stateDir.TrimEnd('/');
    }

    public string Root { get; }

    /// <summary>{state_dir}/starts: the timelines of the last pod starts (see Pod.StartRecords).</summary>
    public string StartsDir => Path.Combine(Root, "starts");

    public string PodDir(string ns, string podId) =>
        Path.Combine(Root, "pods", CheckName(ns, "namespace"), CheckName(podId, "pod id"));

    public string SharedDir(string ns, string podId) => Path.Combine(PodDir(ns, podId), "shared");

    /// <summary>Everything of one container inside the shared folder (its rootfs mount point lives here).</summary>
    public string ContainerSharedDir(string ns, string podId, string containerId) =>
        Path.Combine(SharedDir(ns, podId), CheckName(containerId, "container id"));

    public string ContainerRootfs(string ns, string podId, string containerId) =>
        Path.Combine(ContainerSharedDir(ns, podId, containerId), "rootfs");

    public string ContainerDir(string ns, string podId, string containerId) =>
        Path.Combine(PodDir(ns, podId), "containers", CheckName(containerId, "container id"));

    public string VmDir(string ns, string podId)
    {
        CheckName(ns, "namespace");
        CheckName(podId, "pod id");
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(ns + "/" + podId));
        return Path.Combine(Root, "vm", Convert.ToHexStringLower(hash, 0, 8));
    }

    /// <summary>
    /// Ids become path components: containerd allows [A-Za-z0-9._-] in ids and namespaces, so a "/"
    /// or a ".." is never legitimate and must not reach the file system.
    /// </summary>
    private static string CheckName(string value, string what)
    {
        if (string.IsNullOrEmpty(value) || value is "." or ".." || value.Contains('/') || value.Contains('\0'))
            throw StencilException.InvalidArgument($"{what} \"{value}\" cannot name a folder");
        return value;
    }
}
