namespace Stencil.Agent.Tests.Vm;

/// <summary>A guest with room to hot-add a vCPU, a DIMM, a disk and a NIC (its own VM: hot-adding changes it for good).</summary>
public sealed class HotplugVmFixture() : GuestVmFixture(hotplug: true);
