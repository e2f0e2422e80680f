namespace Stencil.Runtime.Pod;

public sealed partial class PodRuntime
{
    /// <summary>The pod's first container has started: logs the pod's start timeline as one info line and records it for `stencil starts`.</summary>
    private void RecordStart(PendingStart pending, double startMs)
    {
        var now = DateTimeOffset.UtcNow;
        var began = _options.ShimStartedAt is { } shim && shim <= pending.CreateBegan ? shim : pending.CreateBegan;
        double? shimMs = _options.ShimStartedAt is { } s && s <= _createdAt ? (_createdAt - s).TotalMilliseconds : null;
        var timeline = new StartTimeline(began, _options.Namespace, _options.PodId, shimMs, pending.VmSource, pending.VmMs, pending.StorageMs,
            pending.GuestCreateMs, startMs, (now - began).TotalMilliseconds);
        _log.Info(timeline.Describe());
        if (_options.StartsDirectory is not { } directory)
            return;
        try
        {
            new StartRecords(directory).Add(timeline);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log.Warning($"pod {_options.PodId}: its start timeline could not be recorded in {directory}: {ex.Message}");
        }
    }
}
