using Stencil.Agent.Client;
using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Pod;

/// <summary>A container's host block devices in the pod's VM: hot-plugged at create, unplugged when it goes.</summary>
internal static class PodDevices
{
    /// <summary>Hot-plugs the container's host block devices; the agent finds each by its serial.</summary>
    public static async Task<List<ContainerDevice>> AttachAsync(IPodVm vm, PodContainer container, GuestSpecPlan plan, ILog log, CancellationToken cancellationToken)
    {
        var devices = new List<ContainerDevice>();
        foreach (var d in plan.BlockDevices)
        {
            var serial = await vm.AttachBlockDeviceAsync(d.HostPath, d.ReadOnly, cancellationToken).ConfigureAwait(false);
            container.Devices.Add(new AttachedDevice(serial, d.HostPath, d.ContainerPath));
            devices.Add(new ContainerDevice(serial, d.ContainerPath));
            log.Info($"container {container.Id}: {d.HostPath} hot-plugged as virtio-blk {serial} for {d.ContainerPath}");
        }
        return devices;
    }

    /// <summary>
    /// Hot-plugs the container's rootfs image (<see cref="PodContainer.RootfsImage"/>) read-write, as one of its
    /// devices (so it is unplugged with them); the plan's rootfs storage then names the disk's serial.
    /// </summary>
    public static async Task<GuestSpecPlan> AttachRootfsAsync(IPodVm vm, PodContainer container, GuestSpecPlan plan, ILog log, CancellationToken cancellationToken)
    {
        var image = container.RootfsImage ?? throw new InvalidOperationException($"container {container.Id} has no rootfs image");
        var serial = await vm.AttachBlockDeviceAsync(image, readOnly: false, cancellationToken).ConfigureAwait(false);
        container.Devices.Add(new AttachedDevice(serial, image, "/"));
        log.Info($"container {container.Id}: rootfs image {image} hot-plugged as virtio-blk {serial}");
        return plan.WithRootfsDisk(serial);
    }

    public static async Task DetachAsync(IPodVm vm, IReadOnlyList<AttachedDevice> devices, ILog log)
    {
        foreach (var d in devices)
        {
            if (vm.Exited.IsCompleted)
            {
                // A dead VM holds nothing: QEMU's exit closed the host device.
                log.Debug($"{d.HostPath} ({d.Serial}): the VM is gone, nothing to unplug");
                continue;
            }
            try
            {
                await vm.DetachBlockDeviceAsync(d.Serial, CancellationToken.None).ConfigureAwait(false);
                log.Info($"{d.HostPath} ({d.Serial}) unplugged from the VM");
            }
            catch (Exception ex) when (ex is StencilException or ObjectDisposedException)
            {
                log.Warning($"unplugging {d.HostPath} ({d.Serial}) for {d.ContainerPath} failed: {ex.Message}");
            }
        }
    }
}
