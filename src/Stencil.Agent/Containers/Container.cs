namespace Stencil.Agent.Containers;

/// <summary>
/// One container in the guest. Lifecycle operations on it run one at a time (<see cref="Operation"/>);
/// its state is read and written under <see cref="Sync"/>, because the init's exit changes it from
/// the reaper's side at any moment.
/// </summary>
internal sealed class Container(string id, string dir, IOciRuntime runtime, List<string> mounts)
{
    internal string Id { get; } = id;

    /// <summary>The bundle: config.json, the mounted storages, pid files, console sockets.</summary>
    internal string Dir { get; } = dir;

    internal IOciRuntime Runtime { get; } = runtime;

    /// <summary>A sandbox container served by the agent's namespace holder: no runtime state, bundle, mounts or cgroup.</summary>
    internal bool HeldByAgent { get; init; }

    /// <summary>Mount points to undo on removal, in mount order.</summary>
    internal List<string> Mounts { get; } = mounts;

    internal object Sync { get; } = new();

    internal SemaphoreSlim Operation { get; } = new(1, 1);

    internal ContainerState State { get; set; } = ContainerState.Created;

    internal GuestProcess? Init { get; set; }

    internal Dictionary<string, GuestProcess> Execs { get; } = new(StringComparer.Ordinal);

    internal string CgroupDir => Path.Combine("/sys/fs/cgroup", SpecRewriter.CgroupParent.TrimStart('/'), Id);
}
