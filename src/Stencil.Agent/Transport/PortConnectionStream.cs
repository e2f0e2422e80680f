namespace Stencil.Agent.Transport;

/// <summary>
/// One host connection over a <see cref="VirtioPort"/>: a Stream for the ttRPC server that ends at
/// the first end of stream (the host went away) and then refuses writes, so nothing meant for an
/// old connection reaches the next host client.
/// Writes are gathered until a flush, in pieces of up to 32 KiB: the driver sends at most 32 KiB
/// per write() as one ring buffer (one notification of the host), and the ttRPC writer hands over
/// its 4 KiB pipe segments one by one; sent as they come, a 1 MiB answer would cost 256
/// notifications instead of 32.
/// </summary>
internal sealed class PortConnectionStream(VirtioPort port) : Stream
{
    private const int WriteChunk = 32 * 1024;

    private readonly byte[] _pending = new byte[WriteChunk];
    private int _pendingLength;
    private volatile bool _ended;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_ended || buffer.IsEmpty)
            return 0;
        var n = await port.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (n == 0)
            _ended = true;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfEnded();
        while (!buffer.IsEmpty)
        {
            if (_pendingLength == 0 && buffer.Length >= WriteChunk)
            {
                // A whole piece: straight from the caller's memory.
                port.Write(buffer[..WriteChunk]);
                buffer = buffer[WriteChunk..];
                continue;
            }
            var n = Math.Min(buffer.Length, WriteChunk - _pendingLength);
            buffer[..n].CopyTo(_pending.AsSpan(_pendingLength));
            _pendingLength += n;
            buffer = buffer[n..];
            if (_pendingLength == WriteChunk)
                Flush();
        }
    }

    // A write blocks only while the host drains the ring, which it does continuously.
    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        Flush();
        return Task.CompletedTask;
    }

    public override void Flush()
    {
        if (_pendingLength == 0)
            return;
        ThrowIfEnded();
        var length = _pendingLength;
        _pendingLength = 0;
        port.Write(_pending.AsSpan(0, length));
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("use ReadAsync");

    private void ThrowIfEnded()
    {
        if (_ended)
            throw new IOException("the host connection on the virtio port has ended");
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_ended)
        {
            _ended = true;
            port.AbandonRead();
        }
        base.Dispose(disposing);
    }
}
