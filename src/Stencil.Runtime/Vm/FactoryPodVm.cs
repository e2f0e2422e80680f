using System.Runtime.InteropServices;
using Stencil.Agent.Client;
using Stencil.Factory;
using Stencil.Hypervisor;

namespace Stencil.Runtime.Vm;

/// <summary>A factory VM as the pod runtime sees it.</summary>
internal sealed class FactoryPodVm : IPodVm
{
    private readonly FactoryVm _vm;

    private readonly VmFactory _factory;

    public FactoryPodVm(FactoryVm vm, string requestedSharedDirectory, VmFactory factory)
    {
        _vm = vm;
        _factory = factory;
        SharedDirectory = vm.SharedDirectory ?? requestedSharedDirectory;
    }

    public IAgentClient Agent => _vm.Agent;

    public string SharedDirectory { get; }

    public int? ProcessId => _vm.ProcessId;

    public string Origin => _vm.Origin switch
    {
        VmOrigin.TemplateClone => "template",
        VmOrigin.Pool => "pool",
        VmOrigin.Checkpoint => "checkpoint",
        _ => "cold boot",
    };

    public TimeSpan StartupTime => _vm.StartupTime;

    public Task Exited => _vm.Exited;

    public string? ExitReason => _vm.ExitReason;

    public Task<string> AttachBlockDeviceAsync(string hostPath, bool readOnly, CancellationToken cancellationToken) =>
        _vm.AttachDiskAsync(hostPath, readOnly, cancellationToken);

    public Task DetachBlockDeviceAsync(string serial, CancellationToken cancellationToken) =>
        _vm.DetachDiskAsync(serial, cancellationToken);

    public Task AddNetworkAsync(SafeHandle tapFd, string macAddress, CancellationToken cancellationToken) =>
        _vm.Qemu.AddNetworkAsync(NetworkSpec.Tap(tapFd, macAddress), cancellationToken);

    public Task ResizeAsync(int vcpus, int memoryMiB, CancellationToken cancellationToken) =>
        _vm.ResizeAsync(vcpus, memoryMiB, cancellationToken);

    public Task<VmCheckpoint> CheckpointAsync(string folder, bool fullMemory, CancellationToken cancellationToken) =>
        _factory.CheckpointAsync(_vm, folder, fullMemory, cancellationToken);

    public Task ResumeAsync(CancellationToken cancellationToken) => _vm.Qemu.ResumeAsync(cancellationToken);

    public ValueTask DisposeAsync() => _vm.DisposeAsync();
}
