using System.Globalization;
using System.Text;
using System.Text.Json;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Pod;

namespace Stencil.Cli;

/// <summary>
/// `stencil starts [--json]`: the last pod starts on this host, newest first, with where each spent
/// its time (the shims record them in {state_dir}/starts; see <see cref="StartRecords"/>).
/// </summary>
internal static class StartsCommand
{
    public static async Task<int> RunAsync(LoadedConfig config, bool json, TextWriter stdout)
    {
        var starts = new StartRecords(new StatePaths(config.Config.Runtime.StateDir).StartsDir).Read();
        await stdout.WriteAsync(json ? Json(starts) : Table(starts)).ConfigureAwait(false);
        return 0;
    }

    /// <summary>One row per start, milliseconds per phase ("-": not known). Pure.</summary>
    internal static string Table(IReadOnlyList<StartTimeline> starts)
    {
        if (starts.Count == 0)
            return "no pod starts recorded\n";
        string[] header = ["STARTED", "NAMESPACE", "POD", "VM", "SHIM", "VM MS", "STORAGE", "CREATE", "START", "TOTAL"];
        var rows = starts.Select(s => new[]
        {
            Format.Time(s.StartedAt),
            s.Namespace,
            s.PodId.Length > 24 ? s.PodId[..23] + "…" : s.PodId,
            s.VmSource,
            s.ShimMs is { } shim ? Ms(shim) : "-",
            Ms(s.VmMs),
            Ms(s.StorageMs),
            Ms(s.GuestCreateMs),
            Ms(s.StartMs),
            Ms(s.TotalMs),
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows.Prepend(header))
        {
            // Text columns to the left, numbers (from SHIM on) to the right.
            var cells = row.Select((cell, i) => i < 4 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]));
            text.Append(string.Join("  ", cells).TrimEnd()).Append('\n');
        }
        text.Append("milliseconds: SHIM `start` until the pod runtime exists, VM MS until the VM's agent answered, STORAGE host mounts, ")
            .Append("CREATE the container's create in the guest, START its start; TOTAL from `start` to the container running\n");
        return text.ToString();
    }

    /// <summary>A JSON array, newest first; times in unix milliseconds and ISO 8601. Pure.</summary>
    internal static string Json(IReadOnlyList<StartTimeline> starts)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartArray();
            foreach (var s in starts)
            {
                json.WriteStartObject();
                json.WriteString("started_at", s.StartedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                json.WriteString("namespace", s.Namespace);
                json.WriteString("pod", s.PodId);
                json.WriteString("vm", s.VmSource);
                if (s.ShimMs is { } shim)
                    json.WriteNumber("shim_ms", Math.Round(shim));
                else
                    json.WriteNull("shim_ms");
                json.WriteNumber("vm_ms", Math.Round(s.VmMs));
                json.WriteNumber("storage_ms", Math.Round(s.StorageMs));
                json.WriteNumber("guest_create_ms", Math.Round(s.GuestCreateMs));
                json.WriteNumber("start_ms", Math.Round(s.StartMs));
                json.WriteNumber("total_ms", Math.Round(s.TotalMs));
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static string Ms(double ms) => Math.Round(ms).ToString("0", CultureInfo.InvariantCulture);
}
