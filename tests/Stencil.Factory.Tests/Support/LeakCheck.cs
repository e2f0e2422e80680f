using System.Globalization;

namespace Stencil.Factory.Tests.Support;

/// <summary>What a test must not leave behind: QEMU processes, sockets, mounts under its scratch folder.</summary>
public static class LeakCheck
{
    /// <summary>QEMU processes whose command line mentions <paramref name="marker"/> (a scratch folder: every socket path is in it).</summary>
    public static IReadOnlyList<int> QemuProcesses(string marker)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (cmdline.Contains("qemu-system", StringComparison.Ordinal) && cmdline.Contains(marker, StringComparison.Ordinal))
                    found.Add(pid);
            }
            catch (IOException)
            {
                // Exited meanwhile.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    public static IReadOnlyList<string> MountsUnder(string prefix) =>
        [.. File.ReadAllLines("/proc/self/mounts").Select(l => l.Split(' ')[1]).Where(m => m == prefix || m.StartsWith(prefix + "/", StringComparison.Ordinal))];

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
