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

    /// <exception cref="InvalidDataException">Not JSON, not an object, or none of the four QMP shapes.</exception>
    public static QmpMessage Parse(ReadOnlySequence<byte> line)
    {
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
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"QMP message is a JSON {root.ValueKind}, not an object");

            long? id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.Number
                && idElement.TryGetInt64(out var idValue) ? idValue : null;

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
    }

    /// <summary>"x.y.z" from a greeting's {"version": {"qemu": {"major", "minor", "micro"}}}.</summary>
    public static string? GreetingVersion(JsonElement greeting)
    {
        if (greeting.ValueKind == JsonValueKind.Object
            && greeting.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.Object
            && version.TryGetProperty("qemu", out var qemu) && qemu.ValueKind == JsonValueKind.Object
            && qemu.TryGetProperty("major", out var major) && major.TryGetInt32(out var ma)
            && qemu.TryGetProperty("minor", out var minor) && minor.TryGetInt32(out var mi)
            && qemu.TryGetProperty("micro", out var micro) && micro.TryGetInt32(out var mc))
        {
            return $"{ma}.{mi}.{mc}";
        }
        return null;
    }

    private static DateTimeOffset ReadTimestamp(JsonElement root)
    {
        if (root.TryGetProperty("timestamp", out var ts) && ts.ValueKind == JsonValueKind.Object
            && ts.TryGetProperty("seconds", out var s) && s.TryGetInt64(out var seconds)
            && ts.TryGetProperty("microseconds", out var us) && us.TryGetInt64(out var micros)
            && seconds >= 0 && micros >= 0)
        {
            return DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(micros * 10);
        }
        return default;
    }

    private static string? StringProperty(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String
            ? p.GetString()
            : null;

    private static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "...";
}
