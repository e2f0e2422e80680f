using System.Text.Json;
using Stencil.Oci.Model;

namespace Stencil.Runtime.Pod;

/// <summary>
/// What a container's spec may ask of the guest's security machinery, decided on the host before a
/// VM is touched. Pure. The rule is the one kubelet users rely on when they move a workload between
/// runtime classes: a request the guest honours is passed on unchanged, a request it cannot honour is
/// refused with an error that says why, never dropped while the container runs as if it were applied.
/// </summary>
/// <remarks>
/// - seccomp (linux.seccomp): containerd has already turned runtime/default or localhost/NAME into
///   the filter itself (the localhost file is read on the host); crun in the guest loads it into the
///   guest kernel, so it passes through. A listenerPath (seccomp user notification) names a host
///   socket the guest cannot reach: refused.
/// - AppArmor: the guest kernel has no profiles loaded. containerd's runtime/default profile
///   (<see cref="ContainerdDefaultAppArmorProfile"/>) asks for "the runtime's default confinement",
///   which for Stencil is the VM boundary, so it is dropped with a note; any other named profile is
///   refused.
/// - SELinux: the guest does not run SELinux, so a process or mount label is refused.
/// - Mount propagation: "rprivate" (None): the shared folder's copy of the source is made private. "rslave" (HostToContainer)
///   works: the shim binds the source into the shared folder as a slave, and 9p serves what the host
///   mounts below it later. "rshared" (Bidirectional) cannot: a mount made in the guest's kernel never
///   reaches the host's.
/// </remarks>
public static class GuestSecurityRules
{
    /// <summary>The profile containerd's CRI loads and names for runtime/default (and an unset profile).</summary>
    public const string ContainerdDefaultAppArmorProfile = "cri-containerd.apparmor.d";

    /// <summary>Checks the spec; throws InvalidArgument for what the guest cannot honour, and drops
    /// (with a note) what the VM boundary stands in for.</summary>
    public static void Apply(Spec spec, string containerId, List<string> notes)
    {
        // The mounts first: containerd sets rootfsPropagation rshared because of such a mount, and the
        // mount's destination is what the user can find in the pod spec.
        if (spec.Mounts is { } mounts)
        {
            foreach (var m in mounts)
            {
                if (m.Options?.FirstOrDefault(IsShared) is { } shared)
                    throw StencilException.InvalidArgument(
                        $"container \"{containerId}\" mount {m.Destination} asks for bidirectional mount propagation ({shared}): mounts made inside a VM cannot propagate to the host; use mountPropagation HostToContainer or None with runtime class stencil");
            }
        }
        if (spec.Process is { } process)
        {
            process.ApparmorProfile = AppArmor(process.ApparmorProfile, containerId, notes);
            if (!string.IsNullOrEmpty(process.SelinuxLabel))
                throw SelinuxRefused(containerId, "process", process.SelinuxLabel);
        }
        if (spec.Linux is { } linux)
        {
            if (linux.Extra?.TryGetValue("mountLabel", out var label) == true && label.ValueKind == JsonValueKind.String && label.GetString() is { Length: > 0 } mountLabel)
                throw SelinuxRefused(containerId, "mount", mountLabel);
            if (linux.Seccomp is { ValueKind: JsonValueKind.Object } seccomp
                && seccomp.TryGetProperty("listenerPath", out var listener) && listener.ValueKind == JsonValueKind.String && listener.GetString() is { Length: > 0 } listenerPath)
                throw StencilException.InvalidArgument(
                    $"container \"{containerId}\" asks for a seccomp notify listener at {listenerPath}: that is a host socket, and the filter runs in the guest kernel, which cannot reach it");
            if (linux.Seccomp is { ValueKind: JsonValueKind.Object })
                notes.Add("seccomp filter passed to the guest's OCI runtime");
            if (linux.Extra?.TryGetValue("rootfsPropagation", out var rp) == true && rp.ValueKind == JsonValueKind.String && IsShared(rp.GetString()))
                throw StencilException.InvalidArgument(
                    $"container \"{containerId}\" asks for rootfsPropagation \"{rp.GetString()}\" (bidirectional mount propagation): mounts made inside a VM cannot propagate to the host; use mountPropagation HostToContainer or None with runtime class stencil");
        }
    }

    /// <summary>The propagation the shim gives a bind's copy in the shared folder: "rslave" for a
    /// HostToContainer mount ("slave"/"rslave"), else "rprivate". Private must be asked for: a bind of
    /// a source on a shared mount joins its peer group, and would show later host mounts to the guest,
    /// which runc's private mount does not.</summary>
    public static string SharedFolderPropagation(Mount mount) =>
        mount.Options?.LastOrDefault(o => o is "rslave" or "slave" or "rprivate" or "private") is "rslave" or "slave" ? "rslave" : "rprivate";

    private static StencilException SelinuxRefused(string containerId, string kind, string label) =>
        StencilException.InvalidArgument(
            $"container \"{containerId}\" asks for SELinux {kind} label \"{label}\": the guest kernel does not run SELinux, so a VM runtime cannot apply it; run the pod without seLinuxOptions (containerd: enable_selinux = false) or with another runtime class");

    private static bool IsShared(string? option) => option is "shared" or "rshared";

    private static string? AppArmor(string? profile, string containerId, List<string> notes)
    {
        if (string.IsNullOrEmpty(profile) || profile == "unconfined")
            return null; // nothing to apply (and the guest's crun would look for an AppArmor it has not got)
        if (profile == ContainerdDefaultAppArmorProfile)
        {
            notes.Add($"AppArmor profile {profile} (runtime/default) dropped: the guest has no AppArmor profiles; the VM boundary is Stencil's default confinement");
            return null;
        }
        throw StencilException.InvalidArgument(
            $"container \"{containerId}\" asks for AppArmor profile \"{profile}\": the guest kernel has no AppArmor profiles loaded, so a VM runtime cannot apply it; use runtime/default or unconfined with runtime class stencil, or another runtime class");
    }
}
