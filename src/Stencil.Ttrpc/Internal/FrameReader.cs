using System.IO.Pipelines;
using System.Net.Sockets;

namespace Stencil.Ttrpc.Internal;

/// <summary>
/// The receive pump shared by client and server: reads a pipe, decodes frames with
/// <see cref="FrameCodec"/>, and hands them to an <see cref="IFrameHandler"/>. Bodies of rejected frames
/// are skipped as they stream in, so nothing beyond one maximal frame is ever buffered.
/// </summary>
internal static class FrameReader
{
    /// <summary>Runs until the peer closes, the stream fails, a malformed header arrives, or
    /// <paramref name="cancellationToken"/> fires. Never throws: returns why it stopped.</summary>
    /// <param name="frameTimeout">How long a frame may stay incomplete once its first bytes came (the
    /// body of a skipped frame counts); past it the reader stops. Null: no limit.</param>
    public static async Task<string> RunAsync(PipeReader reader, IFrameHandler handler, TimeSpan? frameTimeout, CancellationToken cancellationToken)
    {
        long skipRemaining = 0;
        FrameHeader skipping = default;
        var skippingKind = FrameReadKind.Frame;
        // Cancels the read when a frame stays incomplete too long; the deadline restarts whenever a
        // frame completes, so only a peer that stops in the middle of one (or dribbles it) trips it.
        using var frameTimer = frameTimeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var readToken = frameTimer?.Token ?? cancellationToken;
        var timing = false;
        long buffered = 0;
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(readToken).ConfigureAwait(false);
                var buffer = read.Buffer;
                string? stop = null;
                var completed = false;
                while (true)
                {
                    if (skipRemaining > 0)
                    {
                        if (!FrameCodec.Skip(ref buffer, ref skipRemaining))
                            break;
                        handler.OnSkipped(skipping, skippingKind);
                        completed = true;
                    }
                    if (!FrameCodec.TryReadFrame(ref buffer, out var frame))
                        break;
                    completed = true;
                    if (frame.Kind == FrameReadKind.Frame)
                    {
                        handler.OnFrame(frame.Header, frame.Payload);
                    }
                    else if (frame.Kind == FrameReadKind.Malformed)
                    {
                        stop = FrameCodec.MalformedMessage(frame.Header);
                        break;
                    }
                    else if (handler.OnRejected(frame.Header, frame.Kind) is { } rejected)
                    {
                        stop = rejected;
                        break;
                    }
                    else
                    {
                        skipping = frame.Header;
                        skippingKind = frame.Kind;
                        skipRemaining = frame.Header.Length;
                        if (skipRemaining == 0)
                            handler.OnSkipped(skipping, skippingKind);
                    }
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (stop is not null)
                    return stop;
                if (read.IsCompleted || read.IsCanceled)
                {
                    if (read.IsCanceled)
                        return "connection shut down";
                    if (skipRemaining > 0)
                        return $"end of stream while skipping the body of a frame ({skipping}): {skipRemaining} bytes short";
                    return buffer.IsEmpty
                        ? "end of stream"
                        : $"end of stream in the middle of a frame ({buffer.Length} bytes of it received)";
                }
                buffered = buffer.Length;
                if (frameTimer is not null)
                {
                    var partial = skipRemaining > 0 || !buffer.IsEmpty;
                    if (partial && (completed || !timing))
                        frameTimer.CancelAfter(frameTimeout!.Value);
                    else if (!partial && timing)
                        frameTimer.CancelAfter(Timeout.InfiniteTimeSpan);
                    timing = partial;
                }
            }
        }
        catch (OperationCanceledException) when (timing && !cancellationToken.IsCancellationRequested)
        {
            return skipRemaining > 0
                ? $"the body of a frame ({skipping}) did not arrive within {frameTimeout!.Value.TotalSeconds:0.###} s: {skipRemaining} bytes short"
                : $"a frame begun by the peer was not completed within {frameTimeout!.Value.TotalSeconds:0.###} s ({buffered} bytes of it received)";
        }
        catch (OperationCanceledException)
        {
            return "connection shut down";
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            return $"read failed: {ex.Message}";
        }
        catch (Exception ex)
        {
            // A bug in a handler; the connection cannot go on, but the caller must still clean up.
            return $"internal error while reading frames: {ex}";
        }
    }
}
