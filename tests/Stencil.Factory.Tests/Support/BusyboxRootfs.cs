using System.Diagnostics;
using Stencil.TestSupport;

namespace Stencil.Factory.Tests.Support;

/// <summary>A container root file system: Debian's static busybox and a symlink per applet.</summary>
public static class BusyboxRootfs
{
    public static void Create(string root)
    {
        const string busybox = "/bin/busybox";
        Prerequisite.File(busybox, "apt-get install busybox-static (scripts/deps.sh)");
        foreach (var d in new[] { "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "run" })
            Directory.CreateDirectory(Path.Combine(root, d));
        File.Copy(busybox, Path.Combine(root, "bin", "busybox"), overwrite: true);
        using var list = Process.Start(new ProcessStartInfo(busybox, "--list-full") { RedirectStandardOutput = true })!;
        foreach (var applet in list.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var link = Path.Combine(root, applet);
            if (!File.Exists(link) && !Directory.Exists(link))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(link)!);
                File.CreateSymbolicLink(link, "/bin/busybox");
            }
        }
        list.WaitForExit();
        File.WriteAllText(Path.Combine(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        File.WriteAllText(Path.Combine(root, "etc", "group"), "root:x:0:\n");
    }
}
