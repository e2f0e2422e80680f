namespace Stencil.Hypervisor.Internal;

/// <summary>
/// The VM state machine as one pure function: the state an operation leads to, or a
/// FailedPrecondition with a plain message ("cannot pause vm pod-1 in created state").
/// </summary>
internal static class VmLifecycle
{
    public static VmState Next(VmState state, VmOperation operation, string vmName)
    {
        VmState? next = (operation, state) switch
        {
            (VmOperation.Start, VmState.Created) => VmState.Running,
            (VmOperation.StartIncoming, VmState.Created) => VmState.Incoming,
            (VmOperation.Pause, VmState.Running) => VmState.Paused,
            (VmOperation.Resume, VmState.Paused) => VmState.Running,
            (VmOperation.Save, VmState.Paused) => VmState.Saved,
            (VmOperation.Restore, VmState.Incoming) => VmState.Paused,
            (VmOperation.Hotplug or VmOperation.Unplug, VmState.Running or VmState.Paused) => state,
            // A clone restored from a checkpoint gets the checkpoint's disks before its state is loaded
            // (any other clone must not: its template's state has no such device).
            (VmOperation.PlugBeforeLoad, VmState.Incoming) => state,
            (VmOperation.Checkpoint, VmState.Paused) => state,
            (VmOperation.WriteMemory, VmState.Incoming) => state,
            (VmOperation.Query, VmState.Incoming or VmState.Running or VmState.Paused or VmState.Saved) => state,
            (VmOperation.Shutdown, not VmState.Stopped) => VmState.Stopped,
            _ => null,
        };
        return next ?? throw StencilException.FailedPrecondition(
            $"cannot {Verb(operation)} vm {vmName} in {state.ToString().ToLowerInvariant()} state");
    }

    public static string Verb(VmOperation operation) => operation switch
    {
        VmOperation.Start or VmOperation.StartIncoming => "start",
        VmOperation.Pause => "pause",
        VmOperation.Resume => "resume",
        VmOperation.Save => "save",
        VmOperation.Restore => "restore",
        VmOperation.Hotplug => "hot-plug a device into",
        VmOperation.Unplug => "unplug a device from",
        VmOperation.Query => "query",
        VmOperation.Checkpoint => "checkpoint",
        VmOperation.PlugBeforeLoad => "plug a checkpoint's device into",
        VmOperation.WriteMemory => "write the memory of",
        VmOperation.Shutdown => "shut down",
        _ => operation.ToString().ToLowerInvariant(),
    };
}
