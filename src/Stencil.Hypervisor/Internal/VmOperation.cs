namespace Stencil.Hypervisor.Internal;

/// <summary>The moves of <see cref="VmLifecycle"/>. Kill is not here: it is allowed in every state.</summary>
internal enum VmOperation
{
    Start,
    StartIncoming,
    Pause,
    Resume,
    Save,
    Restore,
    Hotplug,
    Unplug,
    Query,
    Checkpoint,
    PlugBeforeLoad,
    WriteMemory,
    Shutdown,
}
