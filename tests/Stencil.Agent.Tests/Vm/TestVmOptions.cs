namespace Stencil.Agent.Tests.Vm;

/// <param name="SharedDir">Exported to the guest as virtio-9p with mount_tag "stencil", or null.</param>
/// <param name="Network">A virtio-net NIC (user networking) with MAC <see cref="TestVm.Mac"/>.</param>
public sealed record TestVmOptions(string? SharedDir = null, int MemoryMiB = 512, bool Network = false, string ExtraKernelArgs = "");
