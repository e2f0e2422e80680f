namespace Stencil.Runtime.Pod;

/// <summary>
/// Finds a host block device by its major:minor. An OCI device entry names a device by numbers (its
/// path is where the container sees it, which under CRI differs from the host's), so the host's node
/// comes from sysfs: /sys/dev/block/MAJOR:MINOR/uevent has DEVNAME=loop3 for /dev/loop3.
/// </summary>
internal static class HostDevices
{
    /// <summary>The /dev node of block device <paramref name="major"/>:<paramref name="minor"/>, or null when the host has none.</summary>
    public static string? FindBlockDevice(long major, long minor, string sysRoot = "/sys", string devRoot = "/dev")
    {
        var uevent = Path.Combine(sysRoot, "dev", "block", $"{major}:{minor}", "uevent");
        string[] lines;
        try
        {
            lines = File.ReadAllLines(uevent);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        var name = lines.FirstOrDefault(l => l.StartsWith("DEVNAME=", StringComparison.Ordinal))?["DEVNAME=".Length..];
        if (string.IsNullOrEmpty(name) || name.Contains(".."))
            return null;
        var node = Path.Combine(devRoot, name);
        return File.Exists(node) ? node : null;
    }
}
