using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using Google.Protobuf;

namespace Stencil.Ttrpc.Internal;

/// <summary>
/// The send pump shared by client and server: any thread enqueues, one loop writes. Frames therefore
/// never interleave, and frames queued together go out in one flush.
/// </summary>
internal sealed class FrameWriter
{
    // Flush at least this often while draining a long queue, so the pipe's buffer stays small.
    private const int FlushThreshold = 64 * 1024;

    private readonly Channel<OutboundFrame> _queue = Channel.CreateUnbounded<OutboundFrame>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });

    private readonly TimeSpan? _stallTimeout;
    private long _queuedBytes;

    /// <param name="stallTimeout">How long one flush may wait for the peer to take bytes; past it the
    /// pump stops with "peer stopped reading". Null: as long as it takes.</param>
    public FrameWriter(TimeSpan? stallTimeout = null) => _stallTimeout = stallTimeout;

    /// <summary>Bytes of frames queued and not yet handed to the output (a peer that does not read makes this grow).</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>False once <see cref="Complete"/> was called: the frame will never be sent.</summary>
    public bool TryEnqueue(in OutboundFrame frame)
    {
        Interlocked.Add(ref _queuedBytes, FrameCodec.HeaderLength + frame.PayloadLength);
        if (_queue.Writer.TryWrite(frame))
            return true;
        Interlocked.Add(ref _queuedBytes, -(FrameCodec.HeaderLength + frame.PayloadLength));
        return false;
    }

    /// <summary>Accept no more frames; the pump stops after what is queued. Safe to call twice.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Writes queued frames until <see cref="Complete"/> or cancellation, then completes
    /// <paramref name="output"/>. Never throws: returns null when it stopped as asked, else why the
    /// stream failed.</summary>
    public async Task<string?> RunAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        var failure = await PumpAsync(output, cancellationToken).ConfigureAwait(false);
        try
        {
            // Whatever is still unflushed is dropped: the connection is going away, and
            // StreamPipeWriter would otherwise try to write it to a stream that may be dead.
            await output.CompleteAsync(new OperationCanceledException("ttrpc connection closing")).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
        }
        return failure;
    }

    private async Task<string?> PumpAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        var reader = _queue.Reader;
        // Cancels a flush the peer does not take within the stall timeout.
        using var stall = _stallTimeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                long unflushed = 0;
                while (reader.TryRead(out var frame))
                {
                    Write(output, frame);
                    Interlocked.Add(ref _queuedBytes, -(FrameCodec.HeaderLength + frame.PayloadLength));
                    unflushed += FrameCodec.HeaderLength + frame.PayloadLength;
                    if (unflushed >= FlushThreshold)
                    {
                        if (await FlushAsync(output, stall, cancellationToken).ConfigureAwait(false))
                            return "peer stopped reading";
                        unflushed = 0;
                    }
                }
                if (unflushed > 0 && await FlushAsync(output, stall, cancellationToken).ConfigureAwait(false))
                    return "peer stopped reading";
            }
            return null;
        }
        catch (OperationCanceledException) when (_stallTimeout is not null && !cancellationToken.IsCancellationRequested)
        {
            return $"peer stopped reading: a write waited {_stallTimeout!.Value.TotalSeconds:0.###} s for it to take bytes";
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            return $"write failed: {ex.Message}";
        }
        catch (Exception ex)
        {
            return $"internal error while writing frames: {ex}";
        }
    }

    /// <summary>Flushes within the stall timeout (an OperationCanceledException past it); true when the peer has closed.</summary>
    private async ValueTask<bool> FlushAsync(PipeWriter output, CancellationTokenSource? stall, CancellationToken cancellationToken)
    {
        if (stall is null)
            return (await output.FlushAsync(cancellationToken).ConfigureAwait(false)).IsCompleted;
        stall.CancelAfter(_stallTimeout!.Value);
        var result = await output.FlushAsync(stall.Token).ConfigureAwait(false);
        stall.CancelAfter(Timeout.InfiniteTimeSpan);
        return result.IsCompleted;
    }

    /// <summary>Header then message, straight into the writer's buffer (no intermediate array).</summary>
    public static void Write(IBufferWriter<byte> output, in OutboundFrame frame)
    {
        var header = output.GetSpan(FrameCodec.HeaderLength);
        FrameCodec.WriteHeader(header, new FrameHeader((uint)frame.PayloadLength, frame.StreamId, frame.Type, 0));
        output.Advance(FrameCodec.HeaderLength);
        frame.Message.WriteTo(output);
    }
}
