using System.Text.Json;
using Stencil.Oci.Model;

namespace Stencil.Runtime.Pod;

/// <summary>
/// Runtime-spec fields that the guest's OCI runtime would ignore or fail on, refused on the host with
/// an error that names the field, before a VM is touched. Pure.
/// </summary>
/// <remarks>
/// The guest runs crun 1.21 (Debian 13), which reads runtime-spec 1.0 to 1.2 (what containerd 1.6,
/// 1.7 and 2.x write). Its JSON parser skips members it does not know, so a newer field would be
/// silently dropped while the container runs as if it were applied: these are refused instead.
/// - linux.netDevices (spec 1.3): moves host network interfaces into the container; a host interface
///   cannot enter a VM (crun 1.21 does not know the field).
/// - linux.memoryPolicy (spec 1.3): a NUMA policy by host node numbers (crun 1.21 does not know it).
/// - linux.intelRdt: Intel RDT (resctrl) is a host CPU feature the guest kernel is not given.
/// - mounts[].uidMappings/gidMappings (idmapped mounts): the guest's 9p share cannot be idmapped.
/// </remarks>
public static class GuestSpecFeatures
{
    /// <summary>Throws InvalidArgument naming the first field the guest cannot honour.</summary>
    public static void Check(Spec spec, string containerId)
    {
        if (spec.Linux?.Extra is { } linux)
        {
            if (Present(linux, "netDevices"))
                throw Refused(containerId, "linux.netDevices", "moves host network interfaces into the container, and a host interface cannot enter a VM; let CNI give the pod its network (it is plugged into the VM)");
            if (Present(linux, "memoryPolicy"))
                throw Refused(containerId, "linux.memoryPolicy", "sets a NUMA memory policy by the host's node numbers, which the guest's OCI runtime (crun 1.21) does not apply");
            if (Present(linux, "intelRdt"))
                throw Refused(containerId, "linux.intelRdt", "asks for Intel RDT (resctrl), a host CPU feature the guest kernel is not given");
        }
        if (spec.Mounts is { } mounts)
        {
            for (var i = 0; i < mounts.Count; i++)
            {
                if (mounts[i].Extra is { } extra && (Present(extra, "uidMappings") || Present(extra, "gidMappings")))
                    throw Refused(containerId, $"mounts[{i}].uidMappings ({mounts[i].Destination})", "asks for an idmapped mount, and the guest's 9p share cannot be idmapped");
            }
        }
    }

    private static bool Present(Dictionary<string, JsonElement> members, string name) =>
        members.TryGetValue(name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)
        && !(value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0)
        && !(value.ValueKind == JsonValueKind.Object && !value.EnumerateObject().Any());

    private static StencilException Refused(string containerId, string field, string why) =>
        StencilException.InvalidArgument($"container \"{containerId}\" spec field {field} is not supported in a VM: it {why}");
}
