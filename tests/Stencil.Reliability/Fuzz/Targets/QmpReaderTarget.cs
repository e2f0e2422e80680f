using System.Buffers;
using Stencil.Hypervisor;
using Stencil.Hypervisor.Internal;

namespace Stencil.Reliability.Fuzz.Targets;

/// <summary>
/// What QmpClient's read loop does with QEMU's bytes, without the socket: the stream arrives in random
/// chunks, <see cref="QmpFraming.TryReadLine"/> cuts lines (sometimes under a small line limit), and each
/// line goes through <see cref="QmpMessage.Parse"/> and what the client reads of each kind (greeting
/// version, event timestamp, error class mapped by <see cref="QmpErrors"/>). The documented refusal is
/// InvalidDataException (the client turns it into an Unavailable StencilException and drops the connection).
/// </summary>
public sealed class QmpReaderTarget : IFuzzTarget
{
    public string Name => "qmp";

    public IReadOnlyList<byte[]> Seeds { get; } = Utf8Seeds.Of(
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 19, \"minor\": 2, \"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7\"}, \"capabilities\": [\"oob\"]}}\r\n"
        + "{\"return\": {}, \"id\": 1}\r\n"
        + "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}, \"id\": 2}\r\n",
        "{\"timestamp\": {\"seconds\": 1733390000, \"microseconds\": 123456}, \"event\": \"DEVICE_DELETED\", \"data\": {\"path\": \"/machine/peripheral/net0/virtio-backend\"}}\r\n"
        + "{\"timestamp\": {\"seconds\": 1733390001, \"microseconds\": 5}, \"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}}\r\n",
        "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device 'net0' not found\"}, \"id\": 7}\r\n"
        + "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Migration is disabled\"}, \"id\": 8}\r\n",
        "{\"return\": [{\"props\": {\"core-id\": 0, \"thread-id\": 0, \"socket-id\": 1}, \"vcpus-count\": 1, \"type\": \"qemu64-x86_64-cpu\"}], \"id\": 3}\r\n"
        + "{\"return\": {\"status\": \"completed\", \"total-time\": 1234, \"ram\": {\"transferred\": 1048576}}, \"id\": 4}\n\n");

    public IReadOnlyList<byte[]> Dictionary { get; } = Utf8Seeds.Of(
        "\r\n", "\n", "\r", "{", "}", "[", "]", ":", ",", "\"", "null", "true", "\"QMP\"", "\"return\"", "\"error\"", "\"event\"", "\"id\"", "\"data\"",
        "\"class\"", "\"desc\"", "\"timestamp\"", "\"seconds\"", "\"microseconds\"", "\"version\"", "\"qemu\"", "\"major\"", "-1",
        "9223372036854775807", "1e999", "\"\\u0000\"", "\\ud800");

    public void Run(byte[] input, Random? random)
    {
        var maxLine = random?.Next(4) == 0 ? 1 + random.Next(256) : QmpFraming.DefaultMaxLineBytes;
        var stream = Chunks.Segmented(input, random);
        // As the read loop: every prefix the socket could have delivered, lines taken off as they complete.
        var consumed = 0L;
        foreach (var arrived in Chunks.Prefixes(stream, random))
        {
            var buffer = arrived.Slice(consumed);
            while (QmpFraming.TryReadLine(ref buffer, maxLine, out var line))
            {
                if (!QmpClient.IsBlank(line))
                    Read(QmpMessage.Parse(line));
            }
            consumed = arrived.Length - buffer.Length;
        }
    }

    public bool IsExpected(Exception exception) => exception is InvalidDataException or StencilException;

    private static void Read(QmpMessage message)
    {
        switch (message.Kind)
        {
            case QmpMessageKind.Greeting:
                _ = QmpMessage.GreetingVersion(message.Payload);
                break;
            case QmpMessageKind.Error:
                _ = QmpErrors.FromReply("fuzz", message.ErrorClass!, message.ErrorDescription!);
                break;
            case QmpMessageKind.Event:
                _ = message.EventName!.Length + message.Timestamp.Ticks;
                if (message.Payload.ValueKind != System.Text.Json.JsonValueKind.Undefined)
                    _ = message.Payload.GetRawText();
                break;
            default:
                if (message.Payload.ValueKind != System.Text.Json.JsonValueKind.Undefined)
                    _ = message.Payload.GetRawText();
                break;
        }
    }
}
