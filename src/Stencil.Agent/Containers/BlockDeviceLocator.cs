using System.Globalization;
using System.Text.RegularExpressions;

namespace Stencil.Agent.Containers;

/// <summary>
/// Finds the /dev node of a virtio-blk device from what the host knows: its serial, its PCI address,
/// or its PCI path (slots from the root bus: "03/00" is the device in slot 0 behind the bridge in
/// slot 3). Reads sysfs only; the sysfs root is a parameter so tests can hand it a fake tree.
/// There is no udev in the guest: devtmpfs creates /dev/vdX by itself.
/// </summary>
internal sealed partial class BlockDeviceLocator(string sysRoot = "/sys", string devRoot = "/dev")
{
    [GeneratedRegex("^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]$")]
    private static partial Regex BdfPattern();

    [GeneratedRegex("^[0-9a-f]{1,2}(/[0-9a-f]{1,2})*$")]
    private static partial Regex PciPathPattern();

    /// <summary>Waits (a device just hot-plugged takes a moment to probe) until found or the timeout.</summary>
    internal async Task<string> WaitAsync(string? pciAddress, string? serial, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var what = pciAddress is not null ? $"block device at PCI \"{pciAddress}\"" : $"block device with serial \"{serial}\"";
        if (pciAddress is not null && !BdfPattern().IsMatch(pciAddress) && !PciPathPattern().IsMatch(pciAddress))
            throw StencilException.InvalidArgument($"storage pci_address \"{pciAddress}\" is neither 0000:00:00.0 nor a slot path like 03/00");
        if (pciAddress is null && string.IsNullOrEmpty(serial))
            throw StencilException.InvalidArgument("storage block device has neither pci_address nor serial");
        var deadline = DateTime.UtcNow + timeout;
        var delay = 10;
        while (true)
        {
            var found = pciAddress is not null ? FindByPci(pciAddress) : FindBySerial(serial!);
            if (found is not null)
                return found;
            if (DateTime.UtcNow >= deadline)
                throw StencilException.NotFound($"{what} did not appear within {timeout.TotalSeconds:F1} s");
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = Math.Min(delay * 2, 200);
        }
    }

    internal string? FindBySerial(string serial)
    {
        var block = Path.Combine(sysRoot, "block");
        if (!Directory.Exists(block))
            return null;
        foreach (var dev in Directory.EnumerateDirectories(block).Order(StringComparer.Ordinal))
        {
            var file = Path.Combine(dev, "serial");
            if (File.Exists(file) && File.ReadAllText(file).Trim() == serial)
                return Path.Combine(devRoot, Path.GetFileName(dev));
        }
        return null;
    }

    /// <summary>The major:minor of a block device found here ("/dev/vdb"), from sysfs's block/vdb/dev ("254:16").</summary>
    internal (long Major, long Minor) DeviceNumbers(string devicePath)
    {
        var file = Path.Combine(sysRoot, "block", Path.GetFileName(devicePath), "dev");
        string text;
        try
        {
            text = File.ReadAllText(file).Trim();
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw StencilException.NotFound($"block device {devicePath} has no {file} (it went away?)");
        }
        var parts = text.Split(':');
        if (parts.Length != 2
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
            throw StencilException.Internal($"{file} holds \"{text}\", expected MAJOR:MINOR");
        return (major, minor);
    }

    internal string? FindByPci(string address)
    {
        var deviceDir = BdfPattern().IsMatch(address)
            ? Path.Combine(sysRoot, "bus", "pci", "devices", address)
            : ResolvePciPath(address);
        if (deviceDir is null || !Directory.Exists(deviceDir))
            return null;
        // <device>/virtioN/block/vdX
        foreach (var virtio in Directory.EnumerateDirectories(deviceDir, "virtio*"))
        {
            var block = Path.Combine(virtio, "block");
            if (!Directory.Exists(block))
                continue;
            var name = Directory.EnumerateDirectories(block).Select(Path.GetFileName).Order(StringComparer.Ordinal).FirstOrDefault();
            if (name is not null)
                return Path.Combine(devRoot, name);
        }
        return null;
    }

    /// <summary>"03/00": bus 00 slot 03 is a bridge; its child in slot 00 is the device.</summary>
    private string? ResolvePciPath(string path)
    {
        var slots = path.Split('/').Select(s => int.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
        var dir = Path.Combine(sysRoot, "bus", "pci", "devices", $"0000:00:{slots[0]:x2}.0");
        for (var i = 1; i < slots.Length; i++)
        {
            if (!Directory.Exists(dir))
                return null;
            string? next = null;
            foreach (var child in Directory.EnumerateDirectories(dir))
            {
                var name = Path.GetFileName(child);
                if (BdfPattern().IsMatch(name) && int.Parse(name.AsSpan(8, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) == slots[i]
                    && name.EndsWith(".0", StringComparison.Ordinal))
                {
                    next = child;
                    break;
                }
            }
            if (next is null)
                return null;
            dir = next;
        }
        return dir;
    }
}
