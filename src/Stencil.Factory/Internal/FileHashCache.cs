using System.Security.Cryptography;
using System.Text.Json;

namespace Stencil.Factory.Internal;

/// <summary>
/// SHA-256 of the kernel, initrd and QEMU binary, cached by path + size + inode + mtime in a JSON file
/// in the template folder: every shim computes the template fingerprint, and hashing a 63 MiB vmlinux
/// each time would cost ~0.2 s of CPU per pod. A corrupt or unwritable cache is ignored (only slower).
/// </summary>
internal sealed class FileHashCache
{
    private readonly string? _file;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HashCacheEntry> _entries = new(StringComparer.Ordinal);
    private bool _dirty;

    public FileHashCache(string? file)
    {
        _file = file;
        if (file is null || !File.Exists(file))
            return;
        try
        {
            var list = JsonSerializer.Deserialize(File.ReadAllBytes(file), FactoryJsonContext.Default.ListHashCacheEntry);
            foreach (var entry in list ?? [])
                _entries[entry.Path] = entry;
        }
        catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException)
        {
            // Rebuilt from scratch below.
        }
    }

    /// <param name="what">Names the file in errors ("kernel", "initrd").</param>
    /// <param name="version">Also learn a version string (the QEMU binary's), cached with the hash.</param>
    public async Task<HashCacheEntry> GetAsync(string path, string what, Func<string, CancellationToken, Task<string>>? version,
        CancellationToken cancellationToken)
    {
        var facts = FileFacts.Read(path) ?? throw StencilException.NotFound($"{what} {path} does not exist");
        lock (_gate)
        {
            if (_entries.TryGetValue(path, out var cached) && cached.Matches(facts) && (version is null || cached.Version is not null))
                return cached;
        }

        string hash;
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, useAsync: true);
            hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StencilException(ex is FileNotFoundException ? ErrorKind.NotFound : ErrorKind.PermissionDenied, $"reading {what} {path}: {ex.Message}", ex);
        }
        var entry = new HashCacheEntry
        {
            Path = path,
            Size = facts.Size,
            Inode = facts.Inode,
            MtimeSeconds = facts.MtimeSeconds,
            MtimeNanoseconds = facts.MtimeNanoseconds,
            Sha256 = hash,
            Version = version is null ? null : await version(path, cancellationToken).ConfigureAwait(false),
        };
        // The file may have changed while it was read: cache only what still describes it.
        if (FileFacts.Read(path) is { } after && entry.Matches(after))
        {
            lock (_gate)
            {
                _entries[path] = entry;
                _dirty = true;
            }
        }
        return entry;
    }

    /// <summary>Writes the cache if it changed and its folder exists (the template tmpfs may not be mounted yet).</summary>
    public void Save()
    {
        byte[] json;
        lock (_gate)
        {
            if (!_dirty || _file is null || !Directory.Exists(Path.GetDirectoryName(_file)))
                return;
            json = JsonSerializer.SerializeToUtf8Bytes([.. _entries.Values.OrderBy(e => e.Path, StringComparer.Ordinal)], FactoryJsonContext.Default.ListHashCacheEntry);
            _dirty = false;
        }
        try
        {
            AtomicFile.Write(_file, json);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Only a cache.
        }
    }
}
