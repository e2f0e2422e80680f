using System.Text;

namespace Stencil.Hypervisor.Internal;

/// <summary>
/// The last N bytes a process wrote, for error messages: a ring buffer, so a chatty QEMU costs a
/// fixed amount of memory however long it runs. Thread-safe (stdout and stderr pumps both append).
/// </summary>
internal sealed class OutputTail
{
    private readonly byte[] _ring;
    private readonly Lock _gate = new();
    private long _total;

    public OutputTail(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new byte[capacity];
    }

    public int Capacity => _ring.Length;

    /// <summary>Bytes ever appended, including those that have rotated out.</summary>
    public long TotalBytes
    {
        get
        {
            lock (_gate)
                return _total;
        }
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            if (data.Length >= _ring.Length)
            {
                data[^_ring.Length..].CopyTo(_ring);
                _total += data.Length;
                // Rewind so that Snapshot's "start" lands at index 0.
                var shift = (int)(_total % _ring.Length);
                if (shift != 0)
                    Rotate(_ring, shift);
                return;
            }
            var start = (int)(_total % _ring.Length);
            var first = Math.Min(data.Length, _ring.Length - start);
            data[..first].CopyTo(_ring.AsSpan(start));
            data[first..].CopyTo(_ring);
            _total += data.Length;
        }
    }

    /// <summary>The retained bytes as text, oldest first, trimmed; a cut multi-byte character at the start is dropped.</summary>
    public string Snapshot()
    {
        byte[] bytes;
        lock (_gate)
        {
            if (_total <= _ring.Length)
            {
                bytes = _ring.AsSpan(0, (int)_total).ToArray();
            }
            else
            {
                var start = (int)(_total % _ring.Length);
                bytes = new byte[_ring.Length];
                _ring.AsSpan(start).CopyTo(bytes);
                _ring.AsSpan(0, start).CopyTo(bytes.AsSpan(_ring.Length - start));
            }
        }
        var skip = 0;
        if (_total > _ring.Length)
        {
            while (skip < bytes.Length && skip < 3 && (bytes[skip] & 0xC0) == 0x80)
                skip++;
        }
        return Encoding.UTF8.GetString(bytes, skip, bytes.Length - skip).Trim();
    }

    /// <summary>Rotates right by <paramref name="shift"/>: element i moves to (i + shift) % length.</summary>
    private static void Rotate(byte[] ring, int shift)
    {
        var copy = ring.AsSpan().ToArray();
        copy.AsSpan(0, ring.Length - shift).CopyTo(ring.AsSpan(shift));
        copy.AsSpan(ring.Length - shift).CopyTo(ring);
    }
}
