namespace Stencil.Hypervisor.Internal;

/// <summary>
/// The sockets and pid file a VM's QEMU creates, removed when QEMU is gone. QEMU removes its
/// listening sockets on a clean exit, not when it dies; removing twice is harmless.
/// </summary>
internal sealed class OwnedFiles
{
    private readonly Lock _gate = new();
    private readonly List<string> _paths = [];

    public void Add(string path)
    {
        lock (_gate)
            _paths.Add(path);
    }

    /// <summary>Removes every file added so far (best effort); the list is kept, so this may run again.</summary>
    public void DeleteAll()
    {
        string[] paths;
        lock (_gate)
            paths = [.. _paths];
        foreach (var path in paths)
            TryDelete(path);
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover socket file is harmless and QEMU replaces it on the next bind.
        }
    }
}
