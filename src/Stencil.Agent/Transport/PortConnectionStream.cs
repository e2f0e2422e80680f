namespace Stencil.Agent.Transport;

/// <summary>
/// One host connection over a <see cref="VirtioPort"/>: a Stream for the ttRPC server that ends at
/// the first end of stream (the host went away) and then refuses writes, so nothing meant for an
/// old connection reaches the next host client.
/// </summary>
internal sealed class PortConnectionStream(VirtioPort port) : Stream
{
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
        if (_ended)
            throw new IOException("the host connection on the virtio port has ended");
        // A write blocks only while the host drains the ring, which it does continuously.
        port.Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("use ReadAsync");

    public override void Write(byte[] buffer, int offset, int count)
    {
        if (_ended)
            throw new IOException("the host connection on the virtio port has ended");
        port.Write(buffer.AsSpan(offset, count));
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
