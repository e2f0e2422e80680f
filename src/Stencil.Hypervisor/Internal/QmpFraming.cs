using System.Buffers;

namespace Stencil.Hypervisor.Internal;

/// <summary>
/// QMP is one JSON object per line (QEMU ends each with "\r\n"). Pure: takes whatever bytes have
/// arrived and yields complete lines; the size limit is checked before buffering more, so a peer that
/// never sends a newline cannot make us hold unbounded memory.
/// </summary>
internal static class QmpFraming
{
    /// <summary>query-qmp-schema, the largest reply QEMU 7.2 sends, is ~200 KiB.</summary>
    public const int DefaultMaxLineBytes = 8 * 1024 * 1024;

    /// <summary>
    /// Takes one line (without "\n" and a trailing "\r") off the front of <paramref name="buffer"/>.
    /// Returns false when no complete line has arrived yet.
    /// </summary>
    /// <exception cref="InvalidDataException">A line is longer than <paramref name="maxLineBytes"/>.</exception>
    public static bool TryReadLine(ref ReadOnlySequence<byte> buffer, int maxLineBytes, out ReadOnlySequence<byte> line)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out line, (byte)'\n', advancePastDelimiter: true))
        {
            if (buffer.Length > maxLineBytes)
                throw new InvalidDataException($"QMP message longer than {maxLineBytes} bytes without a line end");
            line = default;
            return false;
        }
        if (line.Length > maxLineBytes)
            throw new InvalidDataException($"QMP message of {line.Length} bytes exceeds the limit of {maxLineBytes}");
        if (line.Length > 0 && EndsWithCarriageReturn(line))
            line = line.Slice(0, line.Length - 1);
        buffer = buffer.Slice(reader.Position);
        return true;
    }

    private static bool EndsWithCarriageReturn(in ReadOnlySequence<byte> line)
    {
        var last = line.Slice(line.Length - 1);
        return last.FirstSpan[0] == (byte)'\r';
    }
}
