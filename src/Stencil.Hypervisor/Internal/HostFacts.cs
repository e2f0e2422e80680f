using System.Text;
using System.Text.RegularExpressions;

namespace Stencil.Hypervisor.Internal;

/// <summary>Pure parsers for what <see cref="HostProbe"/> reads.</summary>
internal static partial class HostFacts
{
    /// <summary>"7.2.22" from "QEMU emulator version 7.2.22 (Debian ...)"; null when absent.</summary>
    public static string? ParseQemuVersion(string versionOutput) =>
        ParseQemuVersionLine(versionOutput)?.Split(' ')[0];

    /// <summary>"7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" from `qemu --version` (what a template's
    /// fingerprint records); null when absent. The one reading of QEMU's version output.</summary>
    public static string? ParseQemuVersionLine(string versionOutput)
    {
        var match = VersionPattern().Match(versionOutput);
        return match.Success ? match.Groups[1].Value.Trim() : null;
    }

    /// <summary>
    /// Null when the loaded KVM modules include a hardware one (kvm_intel, kvm_amd); otherwise why the
    /// /dev/kvm that opened cannot be used. Measured on a nested host: with only kvm_pvm loaded,
    /// /dev/kvm opens, SeaBIOS takes 3 s instead of 0.1 s and a stock Debian kernel never boots
    /// (dmesg: "kvm-pvm: INTERNAL_ERROR in batch emul").
    /// </summary>
    public static string? KvmModuleProblem(IReadOnlyCollection<string> loadedModules)
    {
        if (loadedModules.Contains("kvm_intel") || loadedModules.Contains("kvm_amd"))
            return null;
        if (loadedModules.Contains("kvm_pvm"))
            return "/dev/kvm is served by kvm_pvm (PVM), which cannot run a stock guest kernel";
        // kvm built in without a vendor module showing in sysfs: trust that /dev/kvm opened.
        return null;
    }

    /// <summary>Mount points of tmpfs file systems in /proc/self/mounts text (octal escapes decoded).</summary>
    public static IReadOnlyList<string> ParseTmpfsMounts(string mounts)
    {
        var result = new List<string>();
        foreach (var line in mounts.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            if (fields.Length >= 3 && fields[2] == "tmpfs")
                result.Add(Unescape(fields[1]));
        }
        return result;
    }

    /// <summary>The kernel writes space, tab, newline and backslash in mount points as \040, \011, \012, \134.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
            return field;
        var bytes = new List<byte>(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1, 3))
            {
                bytes.Add(Convert.ToByte(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(field[i].ToString()));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsOctal(string s, int start, int count)
    {
        if (start + count > s.Length)
            return false;
        for (var i = start; i < start + count; i++)
        {
            if (s[i] is < '0' or > '7')
                return false;
        }
        return true;
    }

    [GeneratedRegex(@"QEMU emulator version (\d+\.\d+(?:\.\d+)?[^\n]*)")]
    private static partial Regex VersionPattern();
}
