using Stencil.TestSupport;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// [hypervisor] shared_fs = "none" (given to these containers only, with ctr's --runtime-config-path): the guest
/// mounts no 9p share; a container's root is an ext4 image on a hot-plugged disk, made in the container's private
/// folder and removed with it.
/// </summary>
[Collection(StencilCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RootfsImageTests(StencilContainerd s)
{
    private const string R = StencilContainerd.Runtime;
    private const string I = StencilContainerd.Image;

    /// <summary>The fixture's configuration (same state, sockets and template) plus shared_fs = "none".</summary>
    private string Config() => new StencilConfigFile
    {
        UseGuestImage = true, TemplatePath = s.TemplateDir, StateDir = s.StateDir, ShimSocketDir = s.SocketDir,
        HypervisorKeys = "shared_fs = \"none\"",
    }.WriteTo(Path.Combine(s.Dir, "stencil-no-share.toml"));

    private static string Lines(string text) => text.Replace("\r", "").Trim();

    [Fact]
    public async Task The_root_is_an_ext4_disk_the_container_writes_and_the_host_shares_nothing()
    {
        const string id = "e2e-noshare";
        var run = await s.Ctr("run", "-d", "--runtime", R, "--runtime-config-path", Config(), I, id, "sleep", "600");
        Assert.True(run.ExitCode == 0, $"ctr run: {run.Stderr}\n{s.Containerd.ReadLog()}");
        try
        {
            var exec = await s.Ctr("task", "exec", "--exec-id", "x", id, "sh", "-c",
                "grep ' / ' /proc/mounts | cut -d' ' -f3; echo written > /in-root && cat /in-root; test -x /bin/sh && echo image-files");
            Assert.True(exec.ExitCode == 0, $"ctr task exec: {exec.Stderr}\n{s.Containerd.ReadLog()}");
            Assert.Equal(["ext4", "written", "image-files"], Lines(exec.Stdout).Split('\n'));

            // On the host: the image in the container's private folder; the pod's share holds nothing and nothing
            // of this run is mounted (with 9p the rootfs would be mounted in the share for the guest to see).
            var pod = Path.Combine(s.StateDir, "pods", "default", id);
            var image = Path.Combine(pod, "containers", id, "rootfs.img");
            Assert.True(File.Exists(image), $"{image} is missing");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(image));
            Assert.False(Directory.Exists(Path.Combine(pod, "containers", id, "rootfs")), "the rootfs is still mounted for the image");
            var shared = Path.Combine(pod, "shared");
            Assert.Empty(Directory.Exists(shared) ? Directory.EnumerateFileSystemEntries(shared) : []);
            Assert.Empty(s.LeftoverMounts());
        }
        finally
        {
            await s.Ctr("task", "kill", "-s", "KILL", id);
            await Eventually.UntilAsync(async () => (await s.Ctr("task", "rm", id)).ExitCode == 0, "the task is deleted");
            await s.Ctr("containers", "rm", id);
        }
        await Eventually.NothingLeftAsync(s);
    }

    [Fact]
    public async Task A_read_only_root_stays_read_only()
    {
        var r = await s.Ctr("run", "--rm", "--read-only", "--runtime", R, "--runtime-config-path", Config(), I, "e2e-noshare-ro",
            "sh", "-c", "grep ' / ' /proc/mounts | cut -d' ' -f3,4 | cut -d, -f1; touch /x 2>/dev/null && echo writable || echo read-only");

        Assert.True(r.ExitCode == 0, $"ctr run: {r.Stderr}\n{s.Containerd.ReadLog()}");
        Assert.Equal("ext4 ro\nread-only", Lines(r.Stdout));
        await Eventually.NothingLeftAsync(s);
    }

    [Fact]
    public async Task A_bind_mount_of_a_host_folder_is_refused_by_name()
    {
        var r = await s.Ctr("run", "--rm", "--runtime", R, "--runtime-config-path", Config(),
            "--mount", $"type=bind,src={s.Dir},dst=/data,options=rbind:ro", I, "e2e-noshare-bind", "true");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"bind mount {s.Dir} -> /data", r.Stderr);
        Assert.Contains("shared_fs = ", r.Stderr); // ctr may quote the message's quotes
        Assert.Contains("none", r.Stderr);
        await s.Ctr("containers", "rm", "e2e-noshare-bind");
        await Eventually.NothingLeftAsync(s);
    }
}
