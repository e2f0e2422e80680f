using Stencil.Agent.Client;
using Stencil.Oci;
using Stencil.Oci.Model;
using Stencil.Runtime.Storage;

namespace Stencil.Runtime.Pod;

/// <summary>
/// Rewrites a container's host spec for the guest. Pure: the only input from the host is
/// the isFile function (is a bind source a file?), passed in so tests need no file system.
/// </summary>
/// <remarks>
/// In the guest each container has a folder /run/stencil/containers/ID (the agent's); paths in the
/// guest spec are relative to it. The rootfs comes from the shared folder (SHARED/ID/rootfs), each host
/// bind mount from SHARED/ID/mounts/N. Host-only parts go: hooks (they would run in the wrong
/// kernel), namespace paths (/proc/PID/ns/... of the host), the cgroup path (the guest has its own
/// tree). The network namespace is dropped: the VM is the pod's network sandbox, and its NIC lives in
/// the guest's root network namespace.
/// Devices (linux.devices): a block device is hot-plugged into the VM as virtio-blk; its entry and
/// its cgroup rules keep the host's numbers here, and the agent puts the guest's in once it has found
/// the disk. A character device is a host driver the VM does not have, so it is refused, except the
/// few every kernel has under the same fixed numbers (null, zero, full, random, urandom, tty, fuse),
/// which the guest provides itself.
/// </remarks>
public static class GuestSpecBuilder
{
    public const string RootfsMountPoint = "rootfs";

    /// <summary>Annotation for the agent (<see cref="StencilAnnotations.JoinSandboxNamespaces"/>).</summary>
    public const string JoinSandboxNamespacesAnnotation = StencilAnnotations.JoinSandboxNamespaces;

    /// <summary>Character devices with numbers fixed by the kernel: the guest has the same ones.</summary>
    private static readonly HashSet<(long Major, long Minor)> s_guestCharDevices =
    [
        (1, 3), // null
        (1, 5), // zero
        (1, 7), // full
        (1, 8), // random
        (1, 9), // urandom
        (5, 0), // tty
        (10, 200), // net/tun (the guest loads its module when the node is opened)
        (10, 229), // fuse (likewise)
    ];

    /// <param name="isFile">Is a bind-mount source a file (rather than a folder)?</param>
    /// <param name="findBlockDevice">The host node of a block device by major:minor, or null
    /// (the shim uses sysfs: /sys/dev/block/MAJOR:MINOR); null: every block device entry is NotFound.</param>
    /// <param name="findTmpfs">If a bind source is a tmpfs mount point on the host: what it is (the shim
    /// reads /proc/self/mountinfo); else null. Null: never.</param>
    /// <param name="holdSandbox">A CRI sandbox (pause) container is served by the agent's namespace holder
    /// (<see cref="StencilAnnotations.SandboxHolder"/>): [runtime] sandbox_container = "holder".</param>
    /// <param name="sharedFolder">The guest mounts the pod's 9p share ([hypervisor] shared_fs = "virtio-9p"). False: the
    /// rootfs is an image on a disk (<see cref="GuestSpecPlan.RootfsOnDisk"/>; its storage is added once the disk is
    /// plugged, <see cref="GuestSpecPlan.WithRootfsDisk"/>) and a host bind mount, which only the share could carry, is refused.</param>
    public static GuestSpecPlan Build(Spec hostSpec, string containerId, Func<string, bool> isFile, Func<long, long, string?>? findBlockDevice = null,
        Func<string, HostTmpfsMount?>? findTmpfs = null, bool holdSandbox = false, bool sharedFolder = true)
    {
        // Work on a copy: the host spec stays as containerd wrote it.
        var spec = SpecJson.ParseSpec(SpecJson.Serialize(hostSpec), "spec");
        var notes = new List<string>();
        var held = false;
        // The agent's own annotations come from here only: a pod's or an image's are dropped.
        if (spec.Annotations is { } given)
        {
            foreach (var key in given.Keys.Where(k => k.StartsWith(StencilAnnotations.GuestPrefix, StringComparison.Ordinal)).ToList())
            {
                given.Remove(key);
                notes.Add($"annotation {key} dropped: only the shim sets it");
            }
            if (holdSandbox && given.GetValueOrDefault(CriAnnotations.ContainerType) == CriAnnotations.ContainerTypeSandbox)
            {
                given[StencilAnnotations.SandboxHolder] = "true";
                held = true;
                notes.Add("the sandbox container is the agent's namespace holder: its image does not run in the guest");
            }
        }
        var storages = new List<StorageMount>();
        // Without the share the rootfs storage names a disk, known only once it is plugged; a held sandbox
        // container needs none (the agent mounts nothing for it), so no image is made for it.
        var rootfsOnDisk = !sharedFolder && !held;
        if (sharedFolder)
            storages.Add(StorageMount.Shared($"{containerId}/rootfs", RootfsMountPoint));
        else if (rootfsOnDisk)
            notes.Add("rootfs: an ext4 image on a hot-plugged disk (shared_fs = \"none\")");
        var binds = new List<HostBind>();

        spec.Root = new Root { Path = RootfsMountPoint, Readonly = spec.Root?.Readonly ?? false };
        GuestSecurityRules.Apply(spec, containerId, notes);
        GuestSpecFeatures.Check(spec, containerId);

        if (spec.Mounts is not null)
        {
            for (var i = 0; i < spec.Mounts.Count; i++)
            {
                var m = spec.Mounts[i];
                if (!m.IsBind || string.IsNullOrEmpty(m.Source))
                    continue;
                if (findTmpfs?.Invoke(m.Source) is { } tmpfs && Ephemeral(m, tmpfs) is var (name, subpath))
                {
                    storages.Add(StorageMount.Ephemeral(name, $"mounts/{i}", tmpfs.GuestOptions) with { Subpath = subpath });
                    notes.Add($"bind mount {m.Source} -> {m.Destination} is a host tmpfs: the guest's tmpfs {name}{(subpath.Length > 0 ? $" (folder {subpath})" : "")} ({string.Join(',', tmpfs.GuestOptions)}) stands in for it");
                    m.Source = $"mounts/{i}";
                    continue;
                }
                if (!sharedFolder)
                {
                    throw StencilException.InvalidArgument(
                        $"bind mount {m.Source} -> {m.Destination}: a host folder or file reaches the VM only through the pod's shared folder, which [hypervisor] shared_fs = \"none\" turns off");
                }
                var shared = $"{containerId}/mounts/{i}";
                var readOnly = m.Options?.Contains("ro") ?? false;
                binds.Add(new HostBind(m.Source, shared, isFile(m.Source), readOnly) { Propagation = GuestSecurityRules.SharedFolderPropagation(m) });
                storages.Add(StorageMount.Shared(shared, $"mounts/{i}"));
                notes.Add($"bind mount {m.Source} -> {m.Destination} shared as {shared}");
                m.Source = $"mounts/{i}";
            }
        }

        if (spec.Extra?.Remove("hooks", out var hooks) == true)
        {
            // createContainer and startContainer run in the container's namespaces, i.e. in the VM (the
            // guest's OCI runtime runs them); the rest run on the host.
            if (GuestHooks(hooks) is { } guestHooks)
                spec.Extra["hooks"] = guestHooks;
            notes.Add("hooks: createRuntime, prestart, poststart and poststop run on the host (OciHooks); createContainer and startContainer in the guest");
        }

        var devices = new List<HostBlockDevice>();
        if (spec.Linux is { } linux)
        {
            if (linux.Devices is not null)
                devices.AddRange(PlanDevices(linux, findBlockDevice, notes));
            if (linux.Namespaces is not null)
            {
                var before = linux.Namespaces.Count;
                linux.Namespaces.RemoveAll(n => n.Type == "network");
                if (linux.Namespaces.Count != before)
                    notes.Add("network namespace removed: the VM is the pod's network sandbox");
                var joinSandbox = new List<string>();
                foreach (var ns in linux.Namespaces)
                {
                    if (!string.IsNullOrEmpty(ns.Path))
                    {
                        notes.Add($"{ns.Type} namespace path {ns.Path} dropped: it names a host namespace");
                        ns.Path = null;
                        if (ns.Type is "ipc" or "pid" or "uts")
                            joinSandbox.Add(ns.Type);
                    }
                }
                // A CRI container names the pod sandbox's IPC and UTS (and, with a shared process namespace,
                // PID) namespaces on the host; in the guest the agent joins the sandbox container's instead.
                if (joinSandbox.Count > 0 && spec.Annotations is { } annotations
                    && annotations.GetValueOrDefault(CriAnnotations.ContainerType) == CriAnnotations.ContainerTypeContainer
                    && annotations.TryGetValue(CriAnnotations.SandboxId, out var sandboxId))
                {
                    annotations[JoinSandboxNamespacesAnnotation] = string.Join(',', joinSandbox);
                    notes.Add($"{string.Join(", ", joinSandbox)} namespace(s) of sandbox {sandboxId} joined in the guest");
                }
            }
            linux.CgroupsPath = $"/stencil/{containerId}";
        }

        return new GuestSpecPlan(SpecJson.Serialize(spec), storages, binds, notes) { BlockDevices = devices, RootfsOnDisk = rootfsOnDisk };
    }

    /// <summary>
    /// The pod-wide guest tmpfs (and the folder in it) a bind of a host tmpfs becomes, or null (it stays
    /// a 9p share): the sandbox's /dev/shm that containerd binds into every container ("shm"); a
    /// memory-backed emptyDir the kubelet mounts at pods/UID/volumes/kubernetes.io~empty-dir/NAME
    /// ("emptydir-NAME"); and a subPath of one (a bind of a folder inside that tmpfs), the same tmpfs's
    /// folder. Memory the pod's processes share must be the guest's: over 9p every open of a file has
    /// its own inode, and MAP_SHARED mappings of one file by two processes need not see each other's
    /// writes. Any other host tmpfs (a hostPath of the host's /run, say) is the host's data and stays shared.
    /// </summary>
    internal static (string Name, string Subpath)? Ephemeral(Mount mount, HostTmpfsMount tmpfs)
    {
        if (tmpfs.Root == "/")
        {
            if (mount.Destination == "/dev/shm")
                return ("shm", "");
            return HostTmpfs.EmptyDirVolumeName(mount.Source!) is { } name ? (EmptyDirName(name), "") : null;
        }
        return tmpfs.EmptyDirMountPoint is { } whole && HostTmpfs.EmptyDirVolumeName(whole) is { } volume
            ? (EmptyDirName(volume), tmpfs.Root.TrimStart('/'))
            : null;
    }

    private static string EmptyDirName(string volume)
    {
        var name = new string([.. volume.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '-')]);
        return "emptydir-" + (name.Length > 54 ? name[..54] : name);
    }

    /// <summary>The createContainer and startContainer hooks of a spec's "hooks", or null when it has none.</summary>
    internal static System.Text.Json.JsonElement? GuestHooks(System.Text.Json.JsonElement hooks) =>
        SpecHooks.ContainerNamespaceHooks(hooks) is { } kept ? SpecHooks.ToElement(kept) : null;

    private static List<HostBlockDevice> PlanDevices(Linux linux, Func<long, long, string?>? findBlockDevice, List<string> notes)
    {
        var planned = new List<HostBlockDevice>();
        if (DeviceRules.AllowsEveryDevice(linux))
        {
            // Privileged inside the VM: the guest's devices (the agent adds them), never the host's.
            notes.Add($"privileged: the host's {linux.Devices!.Count} devices dropped; the guest gives its own");
            linux.Devices!.Clear();
            return planned;
        }
        foreach (var d in linux.Devices!)
        {
            switch (d.Type)
            {
                case "c" or "u":
                    if (!s_guestCharDevices.Contains((d.Major, d.Minor)))
                        throw StencilException.InvalidArgument($"character device {d.Path} ({d.Major}:{d.Minor}) cannot be passed into a VM");
                    notes.Add($"character device {d.Path} ({d.Major}:{d.Minor}) is the guest's own");
                    break;
                case "b":
                    var hostPath = findBlockDevice?.Invoke(d.Major, d.Minor)
                        ?? throw StencilException.NotFound($"block device {d.Major}:{d.Minor} (linux.devices path {d.Path}) does not exist on the host");
                    var readOnly = !DeviceRules.AllowsBlockWrite(linux, d.Major, d.Minor);
                    planned.Add(new HostBlockDevice(hostPath, d.Path!, d.Major, d.Minor, readOnly));
                    notes.Add($"block device {d.Path} ({d.Major}:{d.Minor}) is host {hostPath}, hot-plugged as virtio-blk{(readOnly ? " read-only" : "")}");
                    break;
                default:
                    break; // a FIFO ("p") is made by the guest's runtime like any other
            }
        }
        if (planned.GroupBy(p => p.ContainerPath).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw StencilException.InvalidArgument($"linux.devices names {twice.Key} more than once");
        return planned;
    }
}
