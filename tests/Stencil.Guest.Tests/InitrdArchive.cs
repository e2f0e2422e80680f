using System.Diagnostics;
using Stencil.TestSupport;

namespace Stencil.Guest.Tests;

/// <summary>Reads the initrd with the host's decompressor and cpio, the tools the build used.</summary>
internal static class InitrdArchive
{
    /// <summary>Every path in the archive, without a leading "./".</summary>
    public static async Task<IReadOnlyList<string>> ListAsync(string initrd)
    {
        var output = await ShellAsync($"{Decompress(initrd)} | cpio -it --quiet").ConfigureAwait(false);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(p => p.StartsWith("./", StringComparison.Ordinal) ? p[2..] : p).ToList();
    }

    /// <summary>The SHA-256 of one file of the archive, in lowercase hex.</summary>
    public static async Task<string> Sha256Async(string initrd, string path)
    {
        var output = await ShellAsync($"{Decompress(initrd)} | cpio -i --to-stdout --quiet '{path}' | sha256sum").ConfigureAwait(false);
        return output.Split(' ')[0];
    }

    private static string Decompress(string initrd)
    {
        var head = new byte[8];
        using (var file = File.OpenRead(initrd))
            file.ReadExactly(head);
        var command = InitrdCompression.DecompressCommand(head);
        Prerequisite.Executable(command.Split(' ')[0], "scripts/deps.sh");
        Prerequisite.Executable("cpio", "scripts/deps.sh");
        return $"{command} '{initrd}'";
    }

    private static async Task<string> ShellAsync(string script)
    {
        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-o", "pipefail", "-c", script })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("/bin/bash did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"`{script}` exited {process.ExitCode}: {await stderr.ConfigureAwait(false)}");
        return await stdout.ConfigureAwait(false);
    }
}
