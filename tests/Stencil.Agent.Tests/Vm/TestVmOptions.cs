namespace Stencil.Agent.Tests.Vm;

/// <param name="SharedDir">Exported to the guest as virtio-9p with mount_tag "stencil", or null.</param>
/// <param name="Hotplug">Room to hot-add a vCPU, a DIMM and two PCIe devices (disk, NIC).</param>
public sealed record TestVmOptions(string? SharedDir = null, int MemoryMiB = 512, bool Hotplug = false, string ExtraKernelArgs = "");
