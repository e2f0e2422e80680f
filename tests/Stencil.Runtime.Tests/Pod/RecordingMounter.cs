using Stencil.Runtime.Storage;

namespace Stencil.Runtime.Tests.Pod;

/// <summary>Records the mounts asked for; nothing is mounted, so folders are removed as plain folders.</summary>
internal sealed class RecordingMounter : IMounter
{
    public List<(MountSpec Mount, string Target)> Mounts { get; } = [];

    /// <summary>When set, a mount throws it.</summary>
    public Exception? Failure { get; set; }

    public void Mount(MountSpec mount, MountTarget target)
    {
        if (Failure is { } failure)
            throw failure;
        lock (Mounts)
            Mounts.Add((mount, target.Path));
    }

    public void Unmount(MountTarget target)
    {
    }

    public bool IsMountPoint(string path) => false;
}
