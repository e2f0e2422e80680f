using System.Security.Cryptography;
using System.Text;
using Stencil.Hypervisor;

namespace Stencil.Factory.Internal;

/// <summary>
/// What must match between a template and a clone, as text and as a short hash that names the
/// template's folder. Pure. The inputs: QEMU (version and binary hash), kernel and initrd content
/// (the agent lives in the initrd), and the description's QEMU command line with every path and
/// per-instance value replaced by a placeholder: machine, accelerator, vCPU and memory layout,
/// kernel command line, root ports, the 9p device, vmgenid, RNG, console. Paths are left out on
/// purpose: a kernel moved or copied elsewhere with the same bytes makes the same guest.
/// </summary>
internal static class TemplateFingerprint
{
    /// <summary>Bumped when the factory's template layout or build steps change.</summary>
    public const int FormatVersion = 1;

    /// <summary>Hex digits of the hash used as the folder name (80 bits: collisions are not a concern).</summary>
    public const int NameLength = 20;

    internal sealed record Inputs(string QemuVersion, string QemuSha256, string KernelSha256, string? InitrdSha256, string? FirmwareSha256,
        VmDescription Description);

    public static string Text(Inputs inputs)
    {
        var description = inputs.Description;
        if (description.Kernel is { } kernel)
        {
            description = description with
            {
                Kernel = kernel with { KernelPath = "/<kernel>", InitrdPath = kernel.InitrdPath is null ? null : "/<initrd>" },
            };
        }
        if (description.FirmwarePath is not null)
            description = description with { FirmwarePath = "/<firmware>" };

        var text = new StringBuilder();
        text.Append("stencil-template-format ").Append(FormatVersion).Append('\n');
        text.Append("qemu ").Append(inputs.QemuVersion).Append(' ').Append(inputs.QemuSha256).Append('\n');
        text.Append("kernel ").Append(inputs.KernelSha256).Append('\n');
        text.Append("initrd ").Append(inputs.InitrdSha256 ?? "none").Append('\n');
        text.Append("firmware ").Append(inputs.FirmwareSha256 ?? "default").Append('\n');
        text.Append("qemu-command-line\n").Append(QemuCommandLine.FingerprintText(description)).Append('\n');
        return text.ToString();
    }

    /// <summary>
    /// What differs between two fingerprint texts, line by line, for an error: "qemu: 7.2 ... here 8.0 ...";
    /// at most three lines, then how many more.
    /// </summary>
    public static string Differences(string before, string here)
    {
        var a = before.Split('\n');
        var b = here.Split('\n');
        var differences = new List<string>();
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length ? a[i] : "(nothing)";
            var y = i < b.Length ? b[i] : "(nothing)";
            if (x != y)
                differences.Add($"\"{x}\", here \"{y}\"");
        }
        if (differences.Count == 0)
            return "the texts are the same (another fingerprint format?)";
        var shown = string.Join("; ", differences.Take(3));
        return differences.Count > 3 ? $"{shown}; and {differences.Count - 3} more" : shown;
    }

    public static string Hash(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..NameLength];
}
