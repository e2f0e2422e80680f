using System.Diagnostics;
using Stencil.Containerd;
using Stencil.Factory;
using Stencil.Hypervisor;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Vm;

namespace Stencil.Cli;

/// <summary>`stencil check`: one line per requirement; exit 1 when a required one is missing.</summary>
internal static class CheckCommand
{
    internal enum Level
    {
        Ok,

        /// <summary>Missing but optional: Stencil works, slower or with a fallback.</summary>
        Warn,

        /// <summary>Missing and required.</summary>
        Fail,
    }

    internal sealed record Line(Level Level, string Name, string Detail);

    public static async Task<int> RunAsync(LoadedConfig loaded, TextWriter stdout, CancellationToken cancellationToken)
    {
        var lines = await CheckAsync(loaded.Config, cancellationToken).ConfigureAwait(false);
        await stdout.WriteLineAsync($"configuration: {Cli.Source(loaded)}").ConfigureAwait(false);
        foreach (var line in lines)
        {
            var level = line.Level switch { Level.Ok => "ok", Level.Warn => "warn", _ => "FAIL" };
            await stdout.WriteLineAsync($"{level,-5} {line.Name,-13} {line.Detail}").ConfigureAwait(false);
        }
        var failed = lines.Count(l => l.Level == Level.Fail);
        await stdout.WriteLineAsync(failed == 0
            ? "all required checks passed"
            : $"{failed} required check{(failed == 1 ? "" : "s")} failed").ConfigureAwait(false);
        return failed == 0 ? 0 : 1;
    }

    internal static async Task<IReadOnlyList<Line>> CheckAsync(StencilConfig config, CancellationToken cancellationToken)
    {
        var h = config.Hypervisor;
        var caps = await new HostProbe(h.Path).ProbeAsync(cancellationToken).ConfigureAwait(false);
        var lines = new List<Line>
        {
            caps.QemuProblem is null
                ? new(Level.Ok, "qemu", $"{caps.QemuPath}: {caps.QemuVersionLine}")
                : new(Level.Fail, "qemu", caps.QemuProblem),
            caps.KvmUsable
                ? new(Level.Ok, "accelerator", "KVM (/dev/kvm)")
                : new(Level.Warn, "accelerator", $"TCG, software emulation (slow): {caps.KvmProblem}"),
            caps.VhostVsock
                ? new(Level.Ok, "vhost-vsock", "/dev/vhost-vsock present")
                : new(Level.Warn, "vhost-vsock", "/dev/vhost-vsock missing: the agent is reached over a virtio-serial port instead"),
            caps.QemuProblem is not null
                ? new(Level.Fail, "9p", "unknown: QEMU cannot be run")
                : caps.Supports9p
                    ? new(Level.Ok, "9p", "QEMU has virtio-9p-pci")
                    : new(Level.Fail, "9p", "QEMU has no virtio-9p-pci device: containers' root file systems reach the guest over 9p"),
            Tmpfs(config.Factory, caps),
            Tc(config.Runtime),
            Nft(config.Runtime),
            MkfsExt4(config.Hypervisor),
            GuestFile("guest kernel", h.Kernel, "kernel"),
            GuestFile("guest initrd", h.Initrd, "initrd"),
        };
        lines.Add(await ContainerdAsync(cancellationToken).ConfigureAwait(false));
        if (config.Factory.EnableTemplate && File.Exists(h.Kernel) && File.Exists(h.Initrd) && caps.QemuProblem is null)
            lines.Add(await TemplateAsync(config, cancellationToken).ConfigureAwait(false));
        return lines;
    }

    /// <summary>The containerd that answers at $CONTAINERD_ADDRESS (as ctr reads it; default
    /// /run/containerd/containerd.sock), else the one on PATH, and whether Stencil supports it.</summary>
    private static async Task<Line> ContainerdAsync(CancellationToken cancellationToken)
    {
        var found = await FindContainerdAsync(cancellationToken).ConfigureAwait(false);
        if (found.Version is null)
            return new(Level.Warn, "containerd", found.Where);
        var (verdict, why) = ContainerdSupport.Describe(found.Version);
        var level = verdict switch { "supported" => Level.Ok, "untested" => Level.Warn, _ => Level.Fail };
        return new(level, "containerd", $"{verdict}: {why}; {found.Where}");
    }

    /// <summary>
    /// The containerd answering at $CONTAINERD_ADDRESS (default /run/containerd/containerd.sock), else
    /// the one on PATH: its version (null: none found or none readable) and where it was found, or why not.
    /// </summary>
    internal static async Task<(ContainerdVersion? Version, string Where, bool Running)> FindContainerdAsync(CancellationToken cancellationToken)
    {
        var address = Environment.GetEnvironmentVariable("CONTAINERD_ADDRESS") is { Length: > 0 } a ? a : "/run/containerd/containerd.sock";
        var (version, error) = await ContainerdVersionClient.QueryAsync(address, TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        if (version is not null)
            return (version, $"running at {address}", true);
        var binary = FindOnPath("containerd");
        if (binary is null)
            return (null, $"not found ({error}; no containerd on PATH): Stencil runs under containerd 1.6, 1.7 or 2.x", false);
        version = await VersionOfBinaryAsync(binary, cancellationToken).ConfigureAwait(false);
        return version is null
            ? (null, $"{binary} --version named no version it could read ({error})", false)
            : (version, $"{binary}, not running ({error})", false);
    }

    internal static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    private static async Task<ContainerdVersion?> VersionOfBinaryAsync(string binary, CancellationToken cancellationToken)
    {
        using var process = Process.Start(new ProcessStartInfo(binary, "--version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
        if (process is null)
            return null;
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return ContainerdVersion.FromVersionCommand(output);
    }

    private static Line Tmpfs(FactoryConfig factory, HostCapabilities caps)
    {
        var path = factory.TemplatePath.TrimEnd('/');
        if (!factory.EnableTemplate)
            return new(Level.Ok, "tmpfs", "not needed (templates off: enable_template = false)");
        if (caps.TmpfsMounts.Contains(path))
            return new(Level.Ok, "tmpfs", $"{path} is a tmpfs");
        var supported = File.Exists("/proc/filesystems") && File.ReadAllText("/proc/filesystems").Contains("\ttmpfs\n", StringComparison.Ordinal);
        if (!supported)
            return new(Level.Fail, "tmpfs", "the kernel has no tmpfs (see /proc/filesystems): templates need one");
        return Environment.IsPrivilegedProcess
            ? new(Level.Ok, "tmpfs", $"{path}: a tmpfs (nosuid, nodev, mode 0700) is mounted there when the first template is built")
            : new(Level.Fail, "tmpfs", $"{path} is not a tmpfs and mounting one needs root");
    }

    private static Line Tc(RuntimeConfig runtime)
    {
        if (runtime.InternetworkingModel != "tcfilter")
            return new(Level.Ok, "tc", $"not needed (internetworking_model = \"{runtime.InternetworkingModel}\")");
        foreach (var dir in new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" })
        {
            var tc = Path.Combine(dir, "tc");
            if (File.Exists(tc))
                return new(Level.Ok, "tc", tc);
        }
        return new(Level.Fail, "tc", "tc not found (install iproute2): internetworking_model = \"tcfilter\" joins the pod's veth to the VM's tap with it");
    }

    /// <summary>The port-forward relay's redirect rule is loaded with nft; a CRI pod with a network namespace is refused without it.</summary>
    private static Line Nft(RuntimeConfig runtime)
    {
        if (runtime.InternetworkingModel != "tcfilter")
            return new(Level.Ok, "nft", $"not needed (internetworking_model = \"{runtime.InternetworkingModel}\")");
        foreach (var dir in new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" })
        {
            var nft = Path.Combine(dir, "nft");
            if (File.Exists(nft))
                return new(Level.Ok, "nft", nft);
        }
        return new(Level.Fail, "nft", "nft not found (install nftables): CRI PortForward reaches a pod's VM through an nftables redirect in the pod's namespace, and pods with a network namespace are refused without it");
    }

    /// <summary>Without the 9p share each container's rootfs is copied into an ext4 image with mkfs.ext4 -d; a container is refused without it.</summary>
    private static Line MkfsExt4(HypervisorConfig hypervisor)
    {
        if (hypervisor.SharedFs != HypervisorConfig.SharedFsNone)
            return new(Level.Ok, "mkfs.ext4", $"not needed (shared_fs = \"{hypervisor.SharedFs}\")");
        foreach (var dir in new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" })
        {
            var mkfs = Path.Combine(dir, "mkfs.ext4");
            if (File.Exists(mkfs))
                return new(Level.Ok, "mkfs.ext4", mkfs);
        }
        return new(Level.Fail, "mkfs.ext4", "mkfs.ext4 not found (install e2fsprogs): shared_fs = \"none\" copies each container's rootfs into an ext4 image with it, and containers are refused without it");
    }

    private static Line GuestFile(string name, string path, string key) =>
        File.Exists(path)
            ? new(Level.Ok, name, $"{path} ({Format.Bytes(new FileInfo(path).Length)})")
            : new(Level.Fail, name, $"{path} is missing (`make install` puts it there; or set [hypervisor] {key})");

    private static async Task<Line> TemplateAsync(StencilConfig config, CancellationToken cancellationToken)
    {
        try
        {
            await using var factory = new VmFactory(FactoryOptionsFromConfig.Create(config), NullLog.Instance);
            var status = await factory.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            if (status.CurrentFingerprint is null)
                return new(Level.Warn, "template", $"cannot compute the fingerprint: {status.FingerprintProblem}");
            var current = status.Templates.FirstOrDefault(t => t.IsCurrent);
            return current is null
                ? new(Level.Ok, "template", $"{status.CurrentFingerprint} not built yet (built on first use, or by `stencil factory init`)")
                : new(Level.Ok, "template", $"{current.Fingerprint} built {Format.Age(current.Age)} ago, {current.ClonesServed} clones served");
        }
        catch (StencilException ex)
        {
            return new(Level.Warn, "template", ex.Message);
        }
    }
}
