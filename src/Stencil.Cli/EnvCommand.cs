using System.Runtime.InteropServices;
using System.Text;
using Stencil.Containerd;
using Stencil.Factory;
using Stencil.Hypervisor;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Vm;

namespace Stencil.Cli;

/// <summary>
/// `stencil env [--json]`, as `kata-runtime env`: the effective configuration (which file, every key
/// with its value), the versions of the pieces (stencil and its shim, the guest agent as the template
/// recorded it, QEMU, the guest kernel, containerd when one is found), what the host offers, and the
/// template's state. TOML by default.
/// </summary>
internal static class EnvCommand
{
    /// <summary>Bumped when a key changes meaning or goes away (new keys do not bump it).</summary>
    internal const long FormatVersion = 1;

    public static async Task<int> RunAsync(LoadedConfig loaded, bool json, TextWriter stdout, CancellationToken cancellationToken)
    {
        var report = await BuildAsync(loaded, cancellationToken).ConfigureAwait(false);
        await stdout.WriteAsync(json ? report.ToJson() : report.ToToml()).ConfigureAwait(false);
        return 0;
    }

    internal static async Task<EnvReport> BuildAsync(LoadedConfig loaded, CancellationToken cancellationToken)
    {
        var config = loaded.Config;
        var h = config.Hypervisor;
        var report = new EnvReport();
        report.Section("Meta").Add(("Version", FormatVersion));

        var stencil = report.Section("Stencil");
        stencil.Add(("Version", typeof(EnvCommand).Assembly.GetName().Version?.ToString(3) ?? "0.0.0"));
        stencil.Add(("RuntimeType", "io.containerd.stencil.v2"));
        stencil.Add(("Shim", FindShim()));

        var file = report.Section("Config");
        file.Add(("Path", loaded.Source));
        file.Add(("Source", loaded.Source is null ? "built-in defaults (no configuration file)" : "file"));
        foreach (var section in ConfigLoader.EffectiveValues(config).GroupBy(v => v.Section))
        {
            var entries = report.Section("Config." + section.Key);
            entries.AddRange(section.Select(v => (v.Key, (object?)v.Value)));
        }

        var caps = await new HostProbe(h.Path).ProbeAsync(cancellationToken).ConfigureAwait(false);
        var options = FactoryOptionsFromConfig.Create(config);
        var hypervisor = report.Section("Hypervisor");
        hypervisor.Add(("Path", caps.QemuPath ?? h.Path));
        hypervisor.Add(("Version", caps.QemuVersion));
        hypervisor.Add(("Problem", caps.QemuProblem));
        hypervisor.Add(("Accelerator", options.Description.Accelerator == Accelerator.Kvm ? "kvm" : "tcg"));
        hypervisor.Add(("KvmProblem", caps.KvmUsable ? null : caps.KvmProblem));
        hypervisor.Add(("VhostVsock", caps.VhostVsock));
        hypervisor.Add(("Virtio9p", caps.Supports9p));
        hypervisor.Add(("MachineType", h.MachineType));

        var guest = report.Section("Guest");
        guest.Add(("Kernel", h.Kernel));
        guest.Add(("KernelRelease", File.Exists(h.Kernel) ? GuestKernelImage.Release(h.Kernel) : null));
        guest.Add(("KernelCommandLine", options.Description.Kernel?.CommandLine));
        guest.Add(("AddressRandomization", FactoryOptionsFromConfig.AddressRandomization(h.GuestAddressRandomization, options.Description.Accelerator)));
        guest.Add(("Initrd", h.Initrd));
        guest.Add(("InitrdBytes", File.Exists(h.Initrd) ? new FileInfo(h.Initrd).Length : null));

        var (containerdVersion, where, running) = await CheckCommand.FindContainerdAsync(cancellationToken).ConfigureAwait(false);
        var containerd = report.Section("Containerd");
        containerd.Add(("Version", containerdVersion?.ToString()));
        containerd.Add(("Found", where));
        containerd.Add(("Running", running));
        if (containerdVersion is not null)
        {
            var (verdict, why) = ContainerdSupport.Describe(containerdVersion);
            containerd.Add(("Support", verdict));
            containerd.Add(("SupportDetail", why));
        }

        var host = report.Section("Host");
        host.Add(("Kernel", ReadTrimmed("/proc/sys/kernel/osrelease")));
        host.Add(("Architecture", RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()));
        host.Add(("Distro", OsRelease("PRETTY_NAME")));
        host.Add(("Cpus", (long)Environment.ProcessorCount));
        host.Add(("MemoryMiB", MemTotalMiB()));

        await AddTemplateAsync(report, config, options, caps, cancellationToken).ConfigureAwait(false);
        return report;
    }

    private static async Task AddTemplateAsync(EnvReport report, StencilConfig config, VmFactoryOptions options, HostCapabilities caps, CancellationToken cancellationToken)
    {
        var template = report.Section("Template");
        template.Add(("Enabled", config.Factory.EnableTemplate));
        template.Add(("Path", config.Factory.TemplatePath));
        template.Add(("DaemonSocket", config.Factory.DaemonSocket));
        template.Add(("DaemonSocketExists", File.Exists(config.Factory.DaemonSocket)));
        if (!config.Factory.EnableTemplate)
            return;
        if (caps.QemuProblem is not null || !File.Exists(config.Hypervisor.Kernel))
        {
            template.Add(("State", "unknown: QEMU or the guest kernel is missing (see `stencil check`)"));
            return;
        }
        try
        {
            await using var factory = new VmFactory(options, NullLog.Instance);
            var status = await factory.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            template.Add(("Fingerprint", status.CurrentFingerprint));
            if (status.CurrentFingerprint is null)
            {
                template.Add(("State", $"unknown: {status.FingerprintProblem}"));
                return;
            }
            var current = status.Templates.FirstOrDefault(t => t.IsCurrent);
            template.Add(("State", current is null ? "not built (built on first use, or by `stencil factory init`)" : "built"));
            template.Add(("Stale", (long)status.Templates.Count(t => !t.IsCurrent)));
            if (current is null)
                return;
            template.Add(("Created", current.Created.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)));
            template.Add(("BuildSeconds", Math.Round(current.BuildTime.TotalSeconds, 2)));
            template.Add(("ClonesServed", current.ClonesServed));
            template.Add(("MemoryFileBytes", current.MemoryFileBytes));
            template.Add(("MemoryFileAllocatedBytes", current.MemoryFileAllocatedBytes));
            template.Add(("AgentVersion", current.AgentVersion));
            template.Add(("GuestKernelRelease", current.GuestKernelRelease));
        }
        catch (StencilException ex)
        {
            template.Add(("State", $"unknown: {ex.Message}"));
        }
    }

    /// <summary>containerd-shim-stencil-v2 beside this program, else on PATH (where containerd looks for it).</summary>
    private static string? FindShim()
    {
        const string name = "containerd-shim-stencil-v2";
        var beside = Path.Combine(AppContext.BaseDirectory, name);
        return File.Exists(beside) ? beside : CheckCommand.FindOnPath(name);
    }

    private static string? ReadTrimmed(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;

    private static string? OsRelease(string key)
    {
        foreach (var path in new[] { "/etc/os-release", "/usr/lib/os-release" })
        {
            if (!File.Exists(path))
                continue;
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith(key + "=", StringComparison.Ordinal))
                    return line[(key.Length + 1)..].Trim('"');
            }
        }
        return null;
    }

    private static long? MemTotalMiB()
    {
        if (!File.Exists("/proc/meminfo"))
            return null;
        var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return line is not null && long.TryParse(line["MemTotal:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture, out var kib)
            ? kib / 1024
            : null;
    }
}

/// <summary>The release of an uncompressed kernel image, read from its "Linux version RELEASE (" banner.</summary>
internal static class GuestKernelImage
{
    private static readonly byte[] s_banner = Encoding.ASCII.GetBytes("Linux version ");

    /// <summary>The release (as uname -r gives it), or null when the image has no readable banner (compressed, or not a kernel).</summary>
    public static string? Release(string path)
    {
        using var file = File.OpenRead(path);
        return Release(file);
    }

    /// <summary>Pure over the stream's bytes: the first banner followed by a plausible release.</summary>
    internal static string? Release(Stream image)
    {
        var buffer = new byte[1 << 20];
        var carry = 0;
        int read;
        while ((read = image.Read(buffer, carry, buffer.Length - carry)) > 0)
        {
            var span = buffer.AsSpan(0, carry + read);
            var from = 0;
            int at;
            while ((at = span[from..].IndexOf(s_banner)) >= 0)
            {
                var start = from + at + s_banner.Length;
                var end = start;
                while (end < span.Length && end - start < 64 && span[end] is > 0x20 and < 0x7f)
                    end++;
                if (end < span.Length && span[end] == (byte)' ' && end > start && char.IsAsciiDigit((char)span[start]))
                    return Encoding.ASCII.GetString(span[start..end]);
                if (end == span.Length)
                    break; // cut by the buffer's end: seen again with the carry
                from = start;
            }
            // Keep the tail, so a banner across two reads is found.
            carry = Math.Min(span.Length, s_banner.Length + 64);
            span[^carry..].CopyTo(buffer);
        }
        return null;
    }
}
