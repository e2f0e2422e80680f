using System.Security.Cryptography;
using Stencil.TestSupport;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// Issue 15, item 3, through containerd and a real VM: a workload that writes links into its volume and
/// rootfs, and links planted in the pod's 9p share as a compromised guest kernel would write them there,
/// do not make the shim's cleanup read, write or remove anything outside the share.
/// </summary>
[Collection(StencilCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class GuestWrittenLinksTests(StencilContainerd s)
{
    private const string Id = "e2e-links";

    [Fact]
    public async Task Links_to_host_files_in_the_share_and_a_volume_are_removed_or_left_never_followed()
    {
        var host = Directory.CreateTempSubdirectory("stencil-e2e-host-").FullName;
        var volume = Directory.CreateTempSubdirectory("stencil-e2e-volume-").FullName;
        var secret = Path.Combine(host, "secret");
        File.WriteAllText(secret, "host secret");
        var shadow = SHA256.HashData(File.ReadAllBytes("/etc/shadow"));
        try
        {
            // The workload's own links: in its volume (the host's folder) and in its rootfs.
            (await s.Ctr("run", "-d", "--runtime", StencilContainerd.Runtime, "--mount", $"type=bind,src={volume},dst=/vol,options=rbind:rw",
                StencilContainerd.Image, Id, "sh", "-c",
                $"ln -s / /vol/root; ln -s /etc/shadow /vol/shadow; ln -s ../../../../{host.TrimStart('/')} /vol/up; mkfifo /vol/fifo; " +
                "ln -s / /escape; touch /vol/ready; sleep 600")).EnsureSuccess("ctr run -d");
            await Eventually.UntilAsync(() => Task.FromResult(File.Exists(Path.Combine(volume, "ready"))), "the workload made its links");

            // What a compromised guest kernel can write over 9p into the container's folder of the share.
            var shared = Path.Combine(s.StateDir, "pods", "default", Id, "shared");
            var container = Path.Combine(new DirectoryInfo(shared).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? shared, Id);
            Assert.True(Directory.Exists(Path.Combine(container, "rootfs")), $"no {container}/rootfs");
            Directory.CreateSymbolicLink(Path.Combine(container, "root"), "/");
            Directory.CreateSymbolicLink(Path.Combine(container, "host"), host);
            Directory.CreateDirectory(Path.Combine(container, "deep", "er"));
            File.CreateSymbolicLink(Path.Combine(container, "deep", "er", "up"), "../../../../../../../../../../.." + secret);
            File.CreateSymbolicLink(Path.Combine(container, "deep", "shadow"), "/etc/shadow");
            File.CreateSymbolicLink(Path.Combine(container, "deep", "proc"), "/proc/self/root/etc");

            (await s.Ctr("task", "kill", "-s", "KILL", Id)).EnsureSuccess("ctr task kill");
            await Eventually.UntilAsync(async () => (await s.Ctr("task", "ls")).Stdout.Contains("STOPPED"), $"{Id} stopped");
            (await s.Ctr("task", "rm", Id)).EnsureSuccess("ctr task rm");
            (await s.Ctr("containers", "rm", Id)).EnsureSuccess("ctr containers rm");

            await Eventually.NothingLeftAsync(s);
            Assert.False(Directory.Exists(container), $"{container} is left");
            Assert.Equal("host secret", File.ReadAllText(secret));
            Assert.Equal(["secret"], Directory.EnumerateFileSystemEntries(host).Select(Path.GetFileName));
            Assert.Equal(shadow, SHA256.HashData(File.ReadAllBytes("/etc/shadow")));
            // The workload's volume is the user's: its links stay as it wrote them.
            Assert.Equal("/", new FileInfo(Path.Combine(volume, "root")).LinkTarget);
            Assert.Equal("/etc/shadow", new FileInfo(Path.Combine(volume, "shadow")).LinkTarget);
            Assert.DoesNotContain($"container {Id}: cleanup of", s.Containerd.ReadLog());
        }
        finally
        {
            await s.Ctr("task", "rm", "-f", Id);
            await s.Ctr("containers", "rm", Id);
            Directory.Delete(host, recursive: true);
            Directory.Delete(volume, recursive: true);
        }
    }
}
