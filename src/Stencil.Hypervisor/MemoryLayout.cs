namespace Stencil.Hypervisor;

/// <summary>
/// Guest memory at boot, in MiB, and the room left for hot-added DIMMs: <see cref="MaxMiB"/> is the
/// ceiling of boot plus hot-added memory and <see cref="HotplugSlots"/> the number of DIMM slots.
/// MaxMiB == SizeMiB with no slots means no memory hotplug.
/// </summary>
public sealed record MemoryLayout(int SizeMiB, int MaxMiB, int HotplugSlots)
{
    public static MemoryLayout Fixed(int sizeMiB) => new(sizeMiB, sizeMiB, 0);

    public bool HotplugEnabled => HotplugSlots > 0 && MaxMiB > SizeMiB;
}
