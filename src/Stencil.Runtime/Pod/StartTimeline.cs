using System.Globalization;
using System.Text;

namespace Stencil.Runtime.Pod;

/// <summary>
/// Where one pod start spent its time, from the shim's `start` to the first container running: the
/// shim (its `start` until the pod runtime exists), the VM (its source: "template", "pool" or "cold
/// boot", and the time until the agent answered), the host storage, the container's create in the
/// guest and its start. <see cref="TotalMs"/> is wall time over the whole span, so it also holds what
/// lies between the phases (containerd's own work between Create and Start). Logged as one info line
/// (<see cref="Describe"/>) and kept as one record line (<see cref="ToRecord"/>, <see cref="TryParseRecord"/>)
/// for `stencil starts`. Pure.
/// </summary>
/// <param name="ShimMs">null: the shim's start time is not known (the daemon was not started by `start`).</param>
public sealed record StartTimeline(
    DateTimeOffset StartedAt,
    string Namespace,
    string PodId,
    double? ShimMs,
    string VmSource,
    double VmMs,
    double StorageMs,
    double GuestCreateMs,
    double StartMs,
    double TotalMs)
{
    /// <summary>The record format's version, the first field of every line.</summary>
    public const string RecordVersion = "1";

    /// <summary>"pod ID started: shim 20 ms, vm template 230 ms, storage 15 ms, guest create 310 ms, start 120 ms, total 700 ms".</summary>
    public string Describe()
    {
        var text = new StringBuilder($"pod {PodId} started: ");
        if (ShimMs is { } shim)
            text.Append($"shim {Ms(shim)} ms, ");
        text.Append($"vm {VmSource} {Ms(VmMs)} ms, storage {Ms(StorageMs)} ms, guest create {Ms(GuestCreateMs)} ms, start {Ms(StartMs)} ms, total {Ms(TotalMs)} ms");
        return text.ToString();
    }

    /// <summary>One line: tab-separated key=value fields (no tab or newline can be in a value: ids are containerd's [A-Za-z0-9._-]).</summary>
    public string ToRecord()
    {
        var fields = new List<string>
        {
            $"v={RecordVersion}",
            $"at={StartedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}",
            $"namespace={Clean(Namespace)}",
            $"pod={Clean(PodId)}",
        };
        if (ShimMs is { } shim)
            fields.Add($"shim_ms={Ms(shim)}");
        fields.Add($"vm={Clean(VmSource)}");
        fields.Add($"vm_ms={Ms(VmMs)}");
        fields.Add($"storage_ms={Ms(StorageMs)}");
        fields.Add($"guest_create_ms={Ms(GuestCreateMs)}");
        fields.Add($"start_ms={Ms(StartMs)}");
        fields.Add($"total_ms={Ms(TotalMs)}");
        return string.Join('\t', fields) + "\n";
    }

    /// <summary>The timeline in a record line, or null with the reason when the line is not one (another version, a field missing or malformed).</summary>
    public static StartTimeline? TryParseRecord(string line, out string? error)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in line.TrimEnd('\n', '\r').Split('\t'))
        {
            var eq = field.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                error = $"field \"{field}\" is not key=value";
                return null;
            }
            fields[field[..eq]] = field[(eq + 1)..];
        }
        if (!fields.TryGetValue("v", out var version) || version != RecordVersion)
        {
            error = $"version \"{version}\" is not {RecordVersion}";
            return null;
        }
        string? problem = null;
        string? Text(string key)
        {
            if (fields.TryGetValue(key, out var value) && value.Length > 0)
                return value;
            problem ??= $"{key} is missing";
            return null;
        }
        double Number(string key)
        {
            if (Text(key) is { } value)
            {
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
                    return n;
                problem ??= $"{key} \"{value}\" is not a number of milliseconds";
            }
            return 0;
        }
        var at = Text("at");
        var startedAt = DateTimeOffset.UnixEpoch;
        if (at is not null)
        {
            if (long.TryParse(at, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
                startedAt = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            else
                problem ??= $"at \"{at}\" is not a time in unix milliseconds";
        }
        double? shimMs = fields.ContainsKey("shim_ms") ? Number("shim_ms") : null;
        var timeline = new StartTimeline(startedAt, Text("namespace") ?? "", Text("pod") ?? "", shimMs, Text("vm") ?? "",
            Number("vm_ms"), Number("storage_ms"), Number("guest_create_ms"), Number("start_ms"), Number("total_ms"));
        error = problem;
        return problem is null ? timeline : null;
    }

    private static string Ms(double ms) => Math.Round(ms).ToString("0", CultureInfo.InvariantCulture);

    private static string Clean(string value) => value.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ');
}
