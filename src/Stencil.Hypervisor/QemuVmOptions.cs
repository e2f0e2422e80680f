namespace Stencil.Hypervisor;

/// <summary>How <see cref="QemuVm"/> runs QEMU. Defaults suit TCG on a busy 2-core machine.</summary>
public sealed record QemuVmOptions
{
    /// <summary>Binary name (looked up on PATH) or path.</summary>
    public string QemuBinary { get; init; } = QemuProcess.DefaultBinary;

    /// <summary>From process start until QMP has greeted and accepted capabilities.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Bound on each operation (pause, hotplug, query...).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Bound on a save or a restore.</summary>
    public TimeSpan MigrationTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often query-migrate is asked during a save or restore (both take tens of ms).</summary>
    public TimeSpan MigrationPollInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>After QMP quit, how long QEMU gets to exit before SIGKILL.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the guest gets to release an unplugged device (DEVICE_DELETED).</summary>
    public TimeSpan UnplugTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int OutputTailBytes { get; init; } = QemuProcess.DefaultOutputTailBytes;
}
