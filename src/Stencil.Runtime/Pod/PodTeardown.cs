namespace Stencil.Runtime.Pod;

/// <summary>A pod's teardown running in the background (see PodSandbox.BeginStopIfIdleAsync).</summary>
/// <param name="NetworkReleased">Completes once QEMU is gone and the pod's tap and filters are removed (at once without a network).</param>
/// <param name="Done">Completes when everything is removed; never faults.</param>
internal sealed record PodTeardown(Task NetworkReleased, Task Done);
