using Stencil.Agent.Client;
using Stencil.Oci;
using Stencil.Oci.Model;

namespace Stencil.Runtime.Pod;

/// <summary>
/// Rewrites a container's host spec for the guest. Pure: the only input from the host is
/// <paramref name="isFile"/> (is a bind source a file?), passed in so tests need no file system.
/// </summary>
/// <remarks>
/// In the guest each container has a folder /run/stencil/containers/ID (the agent's); paths in the
/// guest spec are relative to it. The rootfs comes from the shared folder (SHARED/ID/rootfs), each host
/// bind mount from SHARED/ID/mounts/N. Host-only parts go: hooks (they would run in the wrong
/// kernel), namespace paths (/proc/PID/ns/... of the host), the cgroup path (the guest has its own
/// tree). The network namespace is dropped: the VM is the pod's network sandbox, and its NIC lives in
/// the guest's root network namespace.
/// </remarks>
public static class GuestSpecBuilder
{
    public const string RootfsMountPoint = "rootfs";

    public static GuestSpecPlan Build(Spec hostSpec, string containerId, Func<string, bool> isFile)
    {
        // Work on a copy: the host spec stays as containerd wrote it.
        var spec = SpecJson.ParseSpec(SpecJson.Serialize(hostSpec), "spec");
        var notes = new List<string>();
        var storages = new List<StorageMount> { StorageMount.Shared($"{containerId}/rootfs", RootfsMountPoint) };
        var binds = new List<HostBind>();

        spec.Root = new Root { Path = RootfsMountPoint, Readonly = spec.Root?.Readonly ?? false };

        if (spec.Mounts is not null)
        {
            for (var i = 0; i < spec.Mounts.Count; i++)
            {
                var m = spec.Mounts[i];
                if (!m.IsBind || string.IsNullOrEmpty(m.Source))
                    continue;
                var shared = $"{containerId}/mounts/{i}";
                var readOnly = m.Options?.Contains("ro") ?? false;
                binds.Add(new HostBind(m.Source, shared, isFile(m.Source), readOnly));
                storages.Add(StorageMount.Shared(shared, $"mounts/{i}"));
                notes.Add($"bind mount {m.Source} -> {m.Destination} shared as {shared}");
                m.Source = $"mounts/{i}";
            }
        }

        if (spec.Extra?.Remove("hooks") == true)
            notes.Add("hooks removed: host hooks cannot run in the guest");

        if (spec.Linux is { } linux)
        {
            if (linux.Namespaces is not null)
            {
                var before = linux.Namespaces.Count;
                linux.Namespaces.RemoveAll(n => n.Type == "network");
                if (linux.Namespaces.Count != before)
                    notes.Add("network namespace removed: the VM is the pod's network sandbox");
                foreach (var ns in linux.Namespaces)
                {
                    if (!string.IsNullOrEmpty(ns.Path))
                    {
                        notes.Add($"{ns.Type} namespace path {ns.Path} dropped: it names a host namespace");
                        ns.Path = null;
                    }
                }
            }
            linux.CgroupsPath = $"/stencil/{containerId}";
        }

        return new GuestSpecPlan(SpecJson.Serialize(spec), storages, binds, notes);
    }
}
