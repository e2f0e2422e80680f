using Stencil.Agent.Containers;

namespace Stencil.Agent.Tests.Unit.Fakes;

/// <summary>Remembers which containers are watched; never reports an OOM kill.</summary>
internal sealed class FakeOomWatch : IOomWatch
{
    internal Dictionary<string, string> Watched { get; } = new(StringComparer.Ordinal);

    public void Add(string containerId, string cgroupDir) => Watched[containerId] = cgroupDir;

    public void Remove(string containerId) => Watched.Remove(containerId);

    public ValueTask<string> NextAsync(CancellationToken cancellationToken) =>
        new(Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => "", TaskScheduler.Default));
}
