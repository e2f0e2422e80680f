using System.Diagnostics;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor;

/// <summary>The real host checks: runs QEMU twice (--version, -device help), opens /dev/kvm, lists /sys/module/kvm*, reads /proc/self/mounts.</summary>
public sealed class HostProbe : IHostProbe
{
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(10);

    private readonly string _qemuBinary;
    private readonly string _kvmDevice;
    private readonly string _vsockDevice;
    private readonly string _mountsFile;
    private readonly string _modulesDirectory;

    public HostProbe(string qemuBinary = QemuProcess.DefaultBinary, string kvmDevice = "/dev/kvm",
        string vsockDevice = "/dev/vhost-vsock", string mountsFile = "/proc/self/mounts", string modulesDirectory = "/sys/module")
    {
        _qemuBinary = qemuBinary;
        _kvmDevice = kvmDevice;
        _vsockDevice = vsockDevice;
        _mountsFile = mountsFile;
        _modulesDirectory = modulesDirectory;
    }

    public async Task<HostCapabilities> ProbeAsync(CancellationToken cancellationToken = default)
    {
        var (kvmOpens, kvmProblem) = ProbeKvm(_kvmDevice);
        if (kvmOpens)
            kvmProblem = HostFacts.KvmModuleProblem(LoadedKvmModules(_modulesDirectory));
        var capabilities = new HostCapabilities
        {
            KvmOpens = kvmOpens,
            KvmUsable = kvmOpens && kvmProblem is null,
            KvmProblem = kvmProblem,
            VhostVsock = File.Exists(_vsockDevice),
            TmpfsMounts = File.Exists(_mountsFile)
                ? HostFacts.ParseTmpfsMounts(await File.ReadAllTextAsync(_mountsFile, cancellationToken).ConfigureAwait(false))
                : [],
        };

        var qemuPath = ResolveBinary(_qemuBinary);
        if (qemuPath is null)
            return capabilities with { QemuProblem = $"{_qemuBinary} not found on PATH (install qemu-system-x86)" };

        var (versionOk, versionOutput) = await RunAsync(qemuPath, ["--version"], cancellationToken).ConfigureAwait(false);
        var version = versionOk ? HostFacts.ParseQemuVersion(versionOutput) : null;
        if (version is null)
        {
            return capabilities with
            {
                QemuPath = qemuPath,
                QemuProblem = $"{qemuPath} --version did not print a QEMU version: {versionOutput.Trim()}",
            };
        }

        var (devicesOk, devices) = await RunAsync(qemuPath, ["-device", "help"], cancellationToken).ConfigureAwait(false);
        return capabilities with
        {
            QemuPath = qemuPath,
            QemuVersion = version,
            QemuVersionLine = versionOutput.Split('\n')[0].Trim(),
            Supports9p = devicesOk && devices.Contains("\"virtio-9p-pci\"", StringComparison.Ordinal),
        };
    }

    /// <summary>"7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" from the output of `qemu --version`; null when it names none.</summary>
    public static string? QemuVersionLine(string versionOutput) => HostFacts.ParseQemuVersionLine(versionOutput);

    /// <summary>Whether /dev/kvm opens read-write (what QEMU itself does first).</summary>
    public static (bool Usable, string? Problem) ProbeKvm(string device = "/dev/kvm")
    {
        try
        {
            using var handle = File.OpenHandle(device, FileMode.Open, FileAccess.ReadWrite);
            return (true, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (false, $"{device}: {ex.Message}");
        }
    }

    private static string[] LoadedKvmModules(string modulesDirectory) =>
        Directory.Exists(modulesDirectory)
            ? Directory.EnumerateDirectories(modulesDirectory, "kvm*").Select(Path.GetFileName).OfType<string>().ToArray()
            : [];

    /// <summary>A name is looked up on PATH; a path must exist. Null when not found.</summary>
    public static string? ResolveBinary(string binary)
    {
        if (binary.Contains('/', StringComparison.Ordinal))
            return File.Exists(binary) ? Path.GetFullPath(binary) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, binary);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    private static async Task<(bool Ok, string Output)> RunAsync(string binary, string[] arguments, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in arguments)
            startInfo.ArgumentList.Add(argument);
        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (false, ex.Message);
        }
        process.StandardInput.Close();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(s_commandTimeout);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            var output = await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false);
            return (process.ExitCode == 0, output);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            return (false, $"{binary} {string.Join(' ', arguments)} did not finish within {s_commandTimeout.TotalSeconds} s");
        }
    }
}
