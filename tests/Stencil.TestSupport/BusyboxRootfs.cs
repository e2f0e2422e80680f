using System.Diagnostics;

namespace Stencil.TestSupport;

/// <summary>A container root file system: Debian's static busybox, its applets as symlinks, passwd and group.</summary>
public static class BusyboxRootfs
{
    public static void Create(string root)
    {
        const string busybox = "/bin/busybox";
        Prerequisite.File(busybox, "apt-get install busybox-static (scripts/deps.sh)");
        foreach (var d in new[] { "bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root", "run" })
            Directory.CreateDirectory(Path.Combine(root, d));
        File.Copy(busybox, Path.Combine(root, "bin", "busybox"), overwrite: true);
        var psi = new ProcessStartInfo(busybox, "--list-full") { RedirectStandardOutput = true };
        using var list = Process.Start(psi)!;
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
        File.WriteAllText(Path.Combine(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
        File.WriteAllText(Path.Combine(root, "etc", "group"), "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n");
    }
}
