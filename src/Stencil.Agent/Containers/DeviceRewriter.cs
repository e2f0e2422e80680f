using System.Buffers;
using System.Text.Json;
using Stencil.Oci.Model;

namespace Stencil.Agent.Containers;

/// <summary>
/// Gives hot-plugged devices their guest numbers in the spec. The host sent each linux.devices entry
/// with the host's major/minor (its own disk, e.g. 7:3 for /dev/loop3); in the guest the same disk is
/// a virtio-blk device with other numbers (e.g. 254:16). The entry at the device's container path gets
/// the guest's numbers, and so does every linux.resources.devices rule that named the host's numbers,
/// so the cgroup allows exactly the node the runtime creates. All rules are mapped from their original
/// numbers in one pass: a host number that happens to equal another device's guest number is not
/// mapped twice. Pure.
/// </summary>
internal static class DeviceRewriter
{
    internal static void Apply(Spec spec, IReadOnlyList<GuestDevice> devices)
    {
        if (devices.Count == 0)
            return;
        var entries = spec.Linux?.Devices ?? [];
        var map = new Dictionary<(long Major, long Minor), (long Major, long Minor)>();
        var found = new List<(Device Entry, GuestDevice Guest)>();
        for (var i = 0; i < devices.Count; i++)
        {
            var d = devices[i];
            var entry = entries.FirstOrDefault(e => e.Path == d.ContainerPath)
                ?? throw StencilException.InvalidArgument($"devices[{i}].container_path \"{d.ContainerPath}\" names no linux.devices entry of the spec");
            if (entry.Type != "b")
                throw StencilException.InvalidArgument($"devices[{i}].container_path \"{d.ContainerPath}\": linux.devices has type \"{entry.Type}\" there, not a block device (b)");
            map.TryAdd((entry.Major, entry.Minor), (d.Major, d.Minor));
            found.Add((entry, d));
        }
        foreach (var (entry, guest) in found)
        {
            entry.Major = guest.Major;
            entry.Minor = guest.Minor;
        }
        if (spec.Linux?.Resources?.Extra is { } extra && extra.TryGetValue("devices", out var rules) && rules.ValueKind == JsonValueKind.Array)
            extra["devices"] = RewriteRules(rules, map);
    }

    private static JsonElement RewriteRules(JsonElement rules, Dictionary<(long Major, long Minor), (long Major, long Minor)> map)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var rule in rules.EnumerateArray())
            {
                if (BlockRuleNumbers(rule) is { } host && map.TryGetValue(host, out var guest))
                {
                    w.WriteStartObject();
                    foreach (var p in rule.EnumerateObject())
                    {
                        if (p.NameEquals("major"))
                            w.WriteNumber("major", guest.Major);
                        else if (p.NameEquals("minor"))
                            w.WriteNumber("minor", guest.Minor);
                        else
                            p.WriteTo(w);
                    }
                    w.WriteEndObject();
                }
                else
                {
                    rule.WriteTo(w);
                }
            }
            w.WriteEndArray();
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    /// <summary>A rule {"type":"b","major":M,"minor":N}; wildcards (no major or minor) are left alone.</summary>
    private static (long, long)? BlockRuleNumbers(JsonElement rule)
    {
        if (rule.ValueKind != JsonValueKind.Object
            || !rule.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "b"
            || !rule.TryGetProperty("major", out var major) || !major.TryGetInt64(out var ma)
            || !rule.TryGetProperty("minor", out var minor) || !minor.TryGetInt64(out var mi))
            return null;
        return (ma, mi);
    }
}
