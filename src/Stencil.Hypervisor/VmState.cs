namespace Stencil.Hypervisor;

/// <summary>
/// Where a <see cref="QemuVm"/> is in its life:
/// Created -> Running (cold boot, template) or Incoming (clone) -> Running &lt;-> Paused -> Stopped.
/// A clone leaves Incoming by a restore, paused. A saved VM is Saved: its memory file now backs the
/// state on disk, so it may only be stopped.
/// </summary>
public enum VmState
{
    /// <summary>Command line built; no process yet.</summary>
    Created,

    /// <summary>QEMU started with -incoming defer; waiting for a restore.</summary>
    Incoming,

    Running,

    Paused,

    /// <summary>State saved; only shutdown or kill are allowed (running on would change what was saved).</summary>
    Saved,

    /// <summary>QEMU has exited (shut down, killed, or died).</summary>
    Stopped,
}
