using System.Diagnostics;

namespace Stencil.Factory.Internal;

/// <summary>Finds the QEMU binary and reads its version line (once per binary: the hash cache keeps it).</summary>
internal static class QemuBinary
{
    private static readonly TimeSpan s_versionTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A name is looked up on PATH; a path must exist. Null when not found.</summary>
    public static string? Resolve(string binary) => Stencil.Hypervisor.HostProbe.ResolveBinary(binary);

    /// <summary>"7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" from `qemu --version`.</summary>
    public static async Task<string> ReadVersionAsync(string path, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(path, "--version")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw StencilException.NotFound($"cannot run QEMU {path}: {ex.Message}");
        }
        process.StandardInput.Close();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(s_versionTimeout);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            var output = await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false);
            return Stencil.Hypervisor.HostProbe.QemuVersionLine(output)
                ?? throw StencilException.Internal($"{path} --version did not print a QEMU version: {output.Trim()}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill();
            throw new StencilException(ErrorKind.DeadlineExceeded, $"{path} --version did not finish within {s_versionTimeout.TotalSeconds:0} s");
        }
    }
}
