using System.Buffers;
using System.IO.Pipelines;

namespace Stencil.Reliability.Fuzz.Targets;

/// <summary>
/// A PipeReader over bytes already in memory that hands them out as a socket would, a piece more on
/// each read (<see cref="Chunks.Prefixes"/>), and completes synchronously: the decoder runs on the
/// fuzzer's thread, so its allocations are counted per input.
/// </summary>
internal sealed class ReplayPipeReader(ReadOnlySequence<byte> all, Random? random) : PipeReader
{
    private readonly IEnumerator<ReadOnlySequence<byte>> _arrivals = Chunks.Prefixes(all, random).GetEnumerator();
    private SequencePosition _consumed = all.Start;
    private long _arrived;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        _ = TryRead(out var result);
        return ValueTask.FromResult(result);
    }

    public override bool TryRead(out ReadResult result)
    {
        if (_arrivals.MoveNext())
            _arrived = _arrivals.Current.Length;
        var available = all.Slice(_consumed, all.GetPosition(_arrived));
        result = new ReadResult(available, isCanceled: false, isCompleted: _arrived == all.Length);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed) => _consumed = consumed;

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => _consumed = consumed;

    public override void CancelPendingRead()
    {
    }

    public override void Complete(Exception? exception = null) => _arrivals.Dispose();
}
