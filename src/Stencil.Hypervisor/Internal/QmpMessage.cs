using System.Buffers;
using System.Text.Json;

namespace Stencil.Hypervisor.Internal;

/// <summary>One message from QEMU, classified. <see cref="Parse"/> is pure: bytes in, message out.</summary>
internal sealed record QmpMessage
{
    public required QmpMessageKind Kind { get; init; }

    /// <summary>The id we sent with the command, echoed back; null when absent or not an integer.</summary>
    public long? Id { get; init; }

    /// <summary>Return value, event data, or the greeting's "QMP" object (detached from the parsed document).</summary>
    public JsonElement Payload { get; init; }

    public string? EventName { get; init; }

    public DateTimeOffset Timestamp { get; init; }

    public string? ErrorClass { get; init; }

    public string? ErrorDescription { get; init; }

    /// <exception cref="InvalidDataException">Not text (<see cref="JsonText"/>), not JSON, not an object,
    /// or none of the four QMP shapes.</exception>
    public static QmpMessage Parse(ReadOnlySequence<byte> line)
    {
        // JsonDocument checks the structure, not the strings: a string that is not text would fail later,
        // in whoever reads or compares it (GetString, TryGetProperty), as InvalidOperationException.
        if (JsonText.FindNonText(line.IsSingleSegment ? line.FirstSpan : line.ToArray()) is { } problem)
            throw new InvalidDataException($"QMP message is not text: {problem}");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException("QMP message is not valid JSON: " + ex.Message, ex);
        }

        using (document)
            return Classify(document.RootElement);
    }

    private static QmpMessage Classify(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"QMP message is a JSON {root.ValueKind}, not an object");

        var id = Integer(root, "id");

        if (root.TryGetProperty("return", out var ret))
            return new QmpMessage { Kind = QmpMessageKind.Return, Id = id, Payload = ret.Clone() };

        if (root.TryGetProperty("error", out var error))
        {
            return new QmpMessage
            {
                Kind = QmpMessageKind.Error,
                Id = id,
                ErrorClass = StringProperty(error, "class") ?? "GenericError",
                ErrorDescription = StringProperty(error, "desc") ?? error.GetRawText(),
            };
        }

        if (root.TryGetProperty("event", out var name) && name.ValueKind == JsonValueKind.String)
        {
            return new QmpMessage
            {
                Kind = QmpMessageKind.Event,
                EventName = name.GetString(),
                Payload = root.TryGetProperty("data", out var data) ? data.Clone() : default,
                Timestamp = ReadTimestamp(root),
            };
        }

        if (root.TryGetProperty("QMP", out var greeting) && greeting.ValueKind == JsonValueKind.Object)
            return new QmpMessage { Kind = QmpMessageKind.Greeting, Payload = greeting.Clone() };

        throw new InvalidDataException("QMP message has none of \"return\", \"error\", \"event\", \"QMP\": " + Truncate(root.GetRawText()));
    }

    /// <summary>"x.y.z" from a greeting's {"version": {"qemu": {"major", "minor", "micro"}}}.</summary>
    public static string? GreetingVersion(JsonElement greeting)
    {
        if (greeting.ValueKind == JsonValueKind.Object
            && greeting.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.Object
            && version.TryGetProperty("qemu", out var qemu) && qemu.ValueKind == JsonValueKind.Object
            && Integer(qemu, "major") is { } ma && Integer(qemu, "minor") is { } mi && Integer(qemu, "micro") is { } mc)
        {
            return $"{ma}.{mi}.{mc}";
        }
        return null;
    }

    private static readonly long s_maxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds() - 1;

    /// <summary>The event's time; default when it is missing or out of range (an event is never refused for its timestamp).</summary>
    private static DateTimeOffset ReadTimestamp(JsonElement root)
    {
        if (root.TryGetProperty("timestamp", out var ts) && ts.ValueKind == JsonValueKind.Object
            && Integer(ts, "seconds") is { } seconds && Integer(ts, "microseconds") is { } micros
            // QEMU's microseconds are below a million; seconds past year 9999 do not fit a DateTimeOffset.
            && seconds >= 0 && seconds <= s_maxUnixSeconds && micros is >= 0 and < 1_000_000)
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(micros * 10);
        }
        return default;
    }

    /// <summary>
    /// The member <paramref name="name"/> of an object when it is a number that fits a long; else null.
    /// The kind is checked first: TryGetInt64 throws InvalidOperationException on a string.
    /// </summary>
    private static long? Integer(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Number && p.TryGetInt64(out var n) ? n : null;

    private static string? StringProperty(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String
            ? p.GetString()
            : null;

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "...";
}
