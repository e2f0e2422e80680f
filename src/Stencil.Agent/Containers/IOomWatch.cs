namespace Stencil.Agent.Containers;

/// <summary>The OOM kills of the containers (<see cref="OomWatcher"/>: inotify on memory.events).</summary>
internal interface IOomWatch
{
    /// <summary>Starts watching a created container's cgroup; a cgroup without memory.events is skipped.</summary>
    void Add(string containerId, string cgroupDir);

    void Remove(string containerId);

    /// <summary>The id of the next container that had an OOM kill.</summary>
    ValueTask<string> NextAsync(CancellationToken cancellationToken);
}
