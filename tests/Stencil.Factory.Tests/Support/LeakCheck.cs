using Stencil.TestSupport;

namespace Stencil.Factory.Tests.Support;

/// <summary>What a factory test must not leave behind: QEMU processes, sockets, mounts under its scratch folder (found by <see cref="Leftovers"/>).</summary>
public static class LeakCheck
{
    /// <summary>QEMU processes whose command line mentions <paramref name="marker"/> (a scratch folder: every socket path is in it).</summary>
    public static IReadOnlyList<int> QemuProcesses(string marker) => [.. Leftovers.QemuMentioning(marker).Select(p => p.Pid)];

    public static IReadOnlyList<string> MountsUnder(string prefix) => Leftovers.MountsUnder(prefix);

    public static IReadOnlyList<string> SocketsUnder(string directory) =>
        Directory.Exists(directory)
            ? [.. Directory.EnumerateFiles(directory, "*.sock", SearchOption.AllDirectories)]
            : [];

    /// <summary>
    /// No QEMU started under <paramref name="scratch"/> is alive, no socket is left in it, and nothing is
    /// mounted under it except the mount points in <paramref name="allowedMounts"/> (the shared template).
    /// </summary>
    public static async Task AssertCleanAsync(string scratch, params string[] allowedMounts)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        IReadOnlyList<int> qemu;
        while ((qemu = QemuProcesses(scratch)).Count > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.True(qemu.Count == 0, $"QEMU processes left running: {string.Join(", ", qemu)}");
        var sockets = SocketsUnder(scratch);
        Assert.True(sockets.Count == 0, $"sockets left: {string.Join(", ", sockets)}");
        var mounts = MountsUnder(scratch).Except(allowedMounts).ToList();
        Assert.True(mounts.Count == 0, $"mounts left: {string.Join(", ", mounts)}");
    }
}
