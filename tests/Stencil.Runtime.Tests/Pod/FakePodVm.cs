using System.Runtime.InteropServices;
using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Tests.Pod;

/// <summary>A VM that exists only as its agent: <see cref="Die"/> ends it as a QEMU crash would.</summary>
internal sealed class FakePodVm(string sharedDirectory) : IPodVm
{
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FakeAgentClient FakeAgent { get; } = new();

    /// <summary>When set, the agent the runtime talks to instead of <see cref="FakeAgent"/> (e.g. a real client of a <see cref="HostileAgent"/>).</summary>
    public Stencil.Agent.Client.IAgentClient? RealAgent { get; set; }

    public Stencil.Agent.Client.IAgentClient Agent => RealAgent ?? FakeAgent;

    public string SharedDirectory { get; } = sharedDirectory;

    public int? ProcessId => 4242;

    public string Origin => "fake";

    public TimeSpan StartupTime => TimeSpan.FromMilliseconds(1);

    public Task Exited => _exited.Task;

    public string? ExitReason { get; private set; }

    public bool Disposed { get; private set; }

    public List<(int Vcpus, int MemoryMiB)> Resizes { get; } = [];

    /// <summary>QEMU exits on its own: the agent link breaks, <see cref="Exited"/> completes.</summary>
    public void Die(string reason)
    {
        ExitReason = reason;
        FakeAgent.Break(reason);
        _exited.TrySetResult();
    }

    /// <summary>Disks plugged, in order (serials blk0, blk1, ...).</summary>
    public List<(string Serial, string HostPath, bool ReadOnly)> Plugged { get; } = [];

    /// <summary>Serials unplugged, in order.</summary>
    public List<string> Unplugged { get; } = [];

    /// <summary>When set, plugging a disk throws it.</summary>
    public Exception? PlugFailure { get; set; }

    public Task<string> AttachBlockDeviceAsync(string hostPath, bool readOnly, CancellationToken cancellationToken)
    {
        if (PlugFailure is { } failure)
            throw failure;
        lock (Plugged)
        {
            var serial = $"blk{Plugged.Count}";
            Plugged.Add((serial, hostPath, readOnly));
            return Task.FromResult(serial);
        }
    }

    /// <summary>Runs as a disk is unplugged, with its serial (to see what is on the host at that moment).</summary>
    public Action<string>? OnUnplug { get; set; }

    public Task DetachBlockDeviceAsync(string serial, CancellationToken cancellationToken)
    {
        OnUnplug?.Invoke(serial);
        lock (Unplugged)
            Unplugged.Add(serial);
        return Task.CompletedTask;
    }

    public Task AddNetworkAsync(SafeHandle tapFd, string macAddress, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<Stencil.Factory.VmCheckpoint> CheckpointAsync(string folder, bool fullMemory, CancellationToken cancellationToken) =>
        throw StencilException.Unimplemented("the fake VM cannot be checkpointed");

    public Task ResumeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ResizeAsync(int vcpus, int memoryMiB, CancellationToken cancellationToken)
    {
        Resizes.Add((vcpus, memoryMiB));
        return Task.CompletedTask;
    }

    /// <summary>When set, stopping the VM takes until it completes (QEMU slow to go).</summary>
    public TaskCompletionSource? DisposeGate { get; set; }

    public async ValueTask DisposeAsync()
    {
        if (DisposeGate is { } gate)
            await gate.Task;
        Disposed = true;
        ExitReason ??= "stopped";
        FakeAgent.Break("the VM was stopped");
        _exited.TrySetResult();
    }
}
