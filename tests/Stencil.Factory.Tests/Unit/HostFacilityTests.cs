using Stencil.Factory.Internal;
using Stencil.Factory.Tests.Support;

namespace Stencil.Factory.Tests.Unit;

/// <summary>The two host facilities the factory uses directly: flock and a tmpfs mount (the tests run as root).</summary>
[Trait("Category", "Unit")]
public sealed class HostFacilityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-test-factory-host-").FullName;

    public void Dispose()
    {
        Assert.Empty(LeakCheck.MountsUnder(_dir));
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_held_lock_makes_a_second_taker_wait_and_then_fail_naming_the_file()
    {
        var path = Path.Combine(_dir, "template.lock");
        using (await FileLock.AcquireAsync(path, TimeSpan.FromSeconds(1), "test", CancellationToken.None))
        {
            var ex = await Assert.ThrowsAsync<StencilException>(() => FileLock.AcquireAsync(path, TimeSpan.FromMilliseconds(200), "building", CancellationToken.None));
            Assert.Equal(ErrorKind.DeadlineExceeded, ex.Kind);
            Assert.Contains(path, ex.Message);
            Assert.Contains("building", ex.Message);
        }
        using var second = await FileLock.AcquireAsync(path, TimeSpan.FromSeconds(1), "test", CancellationToken.None);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task The_lock_makes_its_missing_folder_private_as_on_a_freshly_booted_node()
    {
        var folder = Path.Combine(_dir, "run", "stencil"); // /run/stencil does not exist after a boot
        using (await FileLock.AcquireAsync(Path.Combine(folder, "template.lock"), TimeSpan.FromSeconds(1), "test", CancellationToken.None))
        {
            Assert.True(File.Exists(Path.Combine(folder, "template.lock")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        }
    }

    [Fact]
    public async Task A_waiting_taker_gets_the_lock_when_it_is_released()
    {
        var path = Path.Combine(_dir, "template.lock");
        var first = await FileLock.AcquireAsync(path, TimeSpan.FromSeconds(1), "test", CancellationToken.None);
        var waiting = FileLock.AcquireAsync(path, TimeSpan.FromSeconds(10), "test", CancellationToken.None);
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        first.Dispose();
        using var second = await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void The_factory_mounts_a_private_tmpfs_and_unmounts_only_its_own()
    {
        var path = Path.Combine(_dir, "template");
        var tmpfs = new TemplateTmpfs(path);
        Assert.False(tmpfs.IsTmpfsMountPoint);
        Assert.True(tmpfs.EnsureMounted(16 << 20));
        try
        {
            Assert.True(tmpfs.IsTmpfsMountPoint);
            Assert.True(tmpfs.MountedByStencil);
            Assert.False(tmpfs.EnsureMounted(16 << 20));
            var options = File.ReadAllLines("/proc/self/mounts").Select(l => l.Split(' ')).Single(f => f[1] == path)[3].Split(',');
            Assert.Contains("nosuid", options);
            Assert.Contains("nodev", options);
            Assert.Contains("mode=700", options);
            Assert.Contains("size=16384k", options);

            // A tmpfs someone else mounted (no marker) is left alone.
            File.Delete(Path.Combine(path, TemplateTmpfs.MarkerName));
            Assert.False(tmpfs.UnmountIfOurs());
            Assert.True(tmpfs.IsTmpfsMountPoint);
            File.WriteAllText(Path.Combine(path, TemplateTmpfs.MarkerName), "");
        }
        finally
        {
            Assert.True(tmpfs.UnmountIfOurs());
        }
        Assert.False(Directory.Exists(path));
    }
}
