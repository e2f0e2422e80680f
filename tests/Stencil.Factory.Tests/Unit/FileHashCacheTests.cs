using System.Security.Cryptography;
using Stencil.Factory.Internal;

namespace Stencil.Factory.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class FileHashCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-test-factory-hash-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Hashes_are_kept_by_path_size_inode_and_mtime_across_processes()
    {
        var file = Path.Combine(_dir, "initrd");
        var cacheFile = Path.Combine(_dir, "hashes.json");
        await File.WriteAllBytesAsync(file, [1, 2, 3]);
        var expected = Convert.ToHexStringLower(SHA256.HashData(new byte[] { 1, 2, 3 }));

        var first = new FileHashCache(cacheFile);
        Assert.Equal(expected, (await first.GetAsync(file, "initrd", null, CancellationToken.None)).Sha256);
        first.Save();
        Assert.True(File.Exists(cacheFile));

        // A new cache (another shim) trusts the entry while the file is unchanged: prove it by lying in the file.
        var lie = (await File.ReadAllTextAsync(cacheFile)).Replace(expected, new string('0', 64), StringComparison.Ordinal);
        await File.WriteAllTextAsync(cacheFile, lie);
        Assert.Equal(new string('0', 64), (await new FileHashCache(cacheFile).GetAsync(file, "initrd", null, CancellationToken.None)).Sha256);

        // Touched: hashed again (same bytes, same hash).
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(-5));
        Assert.Equal(expected, (await new FileHashCache(cacheFile).GetAsync(file, "initrd", null, CancellationToken.None)).Sha256);

        // Changed bytes: a new hash.
        await File.WriteAllBytesAsync(file, [1, 2, 4]);
        Assert.NotEqual(expected, (await new FileHashCache(cacheFile).GetAsync(file, "initrd", null, CancellationToken.None)).Sha256);
    }

    [Fact]
    public async Task A_version_is_learned_once_and_a_corrupt_cache_is_ignored()
    {
        var file = Path.Combine(_dir, "qemu");
        var cacheFile = Path.Combine(_dir, "hashes.json");
        await File.WriteAllTextAsync(cacheFile, "{ not json");
        await File.WriteAllBytesAsync(file, [9]);
        var calls = 0;
        var cache = new FileHashCache(cacheFile);
        Task<string> Version(string path, CancellationToken ct)
        {
            calls++;
            return Task.FromResult("7.2.22");
        }
        Assert.Equal("7.2.22", (await cache.GetAsync(file, "QEMU binary", Version, CancellationToken.None)).Version);
        Assert.Equal("7.2.22", (await cache.GetAsync(file, "QEMU binary", Version, CancellationToken.None)).Version);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task A_missing_file_is_not_found_and_named()
    {
        var missing = Path.Combine(_dir, "vmlinux");
        var ex = await Assert.ThrowsAsync<StencilException>(() => new FileHashCache(null).GetAsync(missing, "guest kernel", null, CancellationToken.None));
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Equal($"guest kernel {missing} does not exist", ex.Message);
    }
}
