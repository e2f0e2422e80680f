using Stencil.Oci;

namespace Stencil.Runtime.Pod;

/// <summary>One container of the pod: its bundle, host mounts, init process and execs.</summary>
internal sealed class PodContainer
{
    public PodContainer(string id, Bundle bundle, PodProcess init, IReadOnlyList<MountSpec> rootfsMounts)
    {
        Id = id;
        Bundle = bundle;
        Init = init;
        RootfsMounts = rootfsMounts;
    }

    public string Id { get; }

    public Bundle Bundle { get; }

    public PodProcess Init { get; }

    public IReadOnlyList<MountSpec> RootfsMounts { get; }

    /// <summary>Host mount points this container owns, innermost last; unmounted in reverse on delete.</summary>
    public List<string> HostMounts { get; } = [];

    /// <summary>Host block devices hot-plugged into the VM for this container; unplugged on delete.</summary>
    public List<AttachedDevice> Devices { get; } = [];

    /// <summary>
    /// Without the shared folder ([hypervisor] shared_fs = "none"): the host path of the ext4 image that is the
    /// container's root file system (in its private folder; removed with it). Null: the rootfs is shared over 9p.
    /// </summary>
    public string? RootfsImage { get; set; }

    /// <summary>The disk <see cref="RootfsImage"/> is plugged in as (one of <see cref="Devices"/>, which unplugs it); null: none (yet).</summary>
    public AttachedDevice? RootfsDisk => RootfsImage is { } image ? Devices.Find(d => d.HostPath == image) : null;

    /// <summary>Set when the container came from a checkpoint and has not been started yet.</summary>
    public PodCheckpointRecord? RestoredFrom { get; set; }

    /// <summary>Exec'd processes by exec id. Guarded by the runtime's lock.</summary>
    public Dictionary<string, PodProcess> Execs { get; } = [];

    /// <summary>True once the agent knows the container (CreateContainer succeeded).</summary>
    public bool CreatedInGuest { get; set; }

    /// <summary>The phases of the pod's start so far, when this container started the pod's VM; its Start completes the timeline.</summary>
    public PendingStart? PendingStart { get; set; }

    /// <summary>The spec's hooks that run on the host (poststart and poststop are run from here).</summary>
    public OciHooks? Hooks { get; set; }

    public PodProcess Process(string? execId)
    {
        if (string.IsNullOrEmpty(execId))
            return Init;
        return Execs.TryGetValue(execId, out var p)
            ? p
            : throw StencilException.NotFound($"exec \"{execId}\" of container \"{Id}\" not found");
    }
}
