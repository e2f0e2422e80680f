using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Tests.Pod;

/// <summary>Hands out <see cref="FakePodVm"/>s; a test can hold a start (<see cref="Gate"/>) or fail it (<see cref="Failure"/>).</summary>
internal sealed class FakePodVmProvider : IPodVmProvider
{
    public List<FakePodVm> Started { get; } = [];

    /// <summary>When set, each start waits for it first.</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>When set, each start throws it.</summary>
    public Exception? Failure { get; set; }

    /// <summary>Runs on each new VM before it is handed out (to give its agent a behaviour).</summary>
    public Action<FakePodVm>? OnStart { get; set; }

    public int StartCalls;

    public Task<IPodVm> RestoreAsync(PodVmRequest request, Stencil.Factory.VmCheckpoint checkpoint, string folder,
        IReadOnlyList<(Stencil.Factory.VmCheckpointDisk Disk, string HostPath)> disks, CancellationToken cancellationToken) =>
        throw StencilException.Unimplemented("the fake provider cannot restore");

    public async Task<IPodVm> StartAsync(PodVmRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref StartCalls);
        if (Gate is { } gate)
            await gate.Task.WaitAsync(cancellationToken);
        if (Failure is { } failure)
            throw failure;
        var vm = new FakePodVm(request.SharedDirectory);
        OnStart?.Invoke(vm);
        lock (Started)
            Started.Add(vm);
        return vm;
    }
}
