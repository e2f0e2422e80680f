using System.Text.Json;

namespace Stencil.Hypervisor.Internal;

/// <summary>Reads query-hotpluggable-cpus. Pure: JSON in, the slot to plug next out.</summary>
internal static class HotpluggableCpus
{
    internal sealed record Slot(string Type, JsonElement Properties);

    private static readonly string[] s_order = ["socket-id", "die-id", "core-id", "thread-id"];

    /// <summary>
    /// The empty slot (no "qom-path") with the lowest socket/die/core/thread ids, or null when every
    /// slot holds a vCPU. QEMU lists slots highest first; plugging lowest first keeps ids dense.
    /// </summary>
    public static Slot? LowestFree(JsonElement slots)
    {
        if (slots.ValueKind != JsonValueKind.Array)
            throw StencilException.Internal($"query-hotpluggable-cpus returned {slots.ValueKind}, not an array");

        Slot? best = null;
        long[]? bestKey = null;
        foreach (var slot in slots.EnumerateArray())
        {
            if (slot.ValueKind != JsonValueKind.Object || slot.TryGetProperty("qom-path", out _))
                continue;
            if (!slot.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || !slot.TryGetProperty("props", out var props) || props.ValueKind != JsonValueKind.Object)
            {
                throw StencilException.Internal("query-hotpluggable-cpus returned a slot without type or props: " + slot.GetRawText());
            }
            var key = s_order.Select(name => props.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : 0).ToArray();
            if (bestKey is null || Compare(key, bestKey) < 0)
            {
                best = new Slot(type.GetString()!, props);
                bestKey = key;
            }
        }
        return best;
    }

    private static int Compare(long[] a, long[] b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            var c = a[i].CompareTo(b[i]);
            if (c != 0)
                return c;
        }
        return 0;
    }
}
