using Stencil.TestSupport;

namespace Stencil.Guest.Tests;

/// <summary>Reads the initrd with the host's decompressor and cpio, the tools the build used.</summary>
internal static class InitrdArchive
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Every path in the archive (cpio prints them without a leading "./").</summary>
    public static async Task<IReadOnlyList<string>> ListAsync(string initrd) =>
        (await BashAsync($"{Decompress(initrd)} | cpio -it --quiet").ConfigureAwait(false))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The SHA-256 of one file of the archive, in lowercase hex.</summary>
    public static async Task<string> Sha256Async(string initrd, string path) =>
        (await BashAsync($"{Decompress(initrd)} | cpio -i --to-stdout --quiet '{path}' | sha256sum").ConfigureAwait(false))
            .Split(' ')[0];

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

    private static async Task<string> BashAsync(string script) =>
        (await ChildProcess.RunAsync("/bin/bash", ["-o", "pipefail", "-c", script], Timeout).ConfigureAwait(false))
            .EnsureSuccess(script);
}
