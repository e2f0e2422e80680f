using System.Globalization;
using Stencil.Interop;

namespace Stencil.Agent.Guest;

/// <summary>Facts about the guest for GetGuestDetails. The parsers are pure.</summary>
internal static class GuestInfo
{
    internal static string KernelRelease() => Libc.KernelRelease();

    /// <summary>A "Name:   123 kB" value of /proc/meminfo (or /proc/self/status), in bytes; 0 when absent.</summary>
    internal static ulong KiloBytesField(string text, string name)
    {
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(name + ":", StringComparison.Ordinal))
                continue;
            var value = line[(name.Length + 1)..].Trim();
            var space = value.IndexOf(' ');
            var number = space < 0 ? value : value[..space];
            return ulong.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : 0;
        }
        return 0;
    }

    internal static ulong MemoryBlockSize(string sysRoot = "/sys")
    {
        var file = Path.Combine(sysRoot, "devices/system/memory/block_size_bytes");
        return File.Exists(file) && ulong.TryParse(File.ReadAllText(file).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size)
            ? size
            : 0;
    }

    internal static int CpusPossible(string sysRoot = "/sys")
    {
        var file = Path.Combine(sysRoot, "devices/system/cpu/possible");
        return File.Exists(file) ? CpuSet.Parse(File.ReadAllText(file)).Count : Environment.ProcessorCount;
    }

    internal static ulong OwnRss() => KiloBytesField(File.ReadAllText("/proc/self/status"), "VmRSS");
}
