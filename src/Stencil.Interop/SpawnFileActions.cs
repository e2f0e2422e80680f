using System.Runtime.InteropServices;

namespace Stencil.Interop;

/// <summary>
/// A posix_spawn_file_actions_t: what the child does to its fds between fork and exec. Holds a
/// reference on every SafeHandle it will dup, so none can be closed before the spawn.
/// </summary>
internal sealed unsafe partial class SpawnFileActions : IDisposable
{
    // glibc x86_64 and aarch64: 80 bytes. The buffer is larger, so a different layout cannot overrun it.
    internal const int NativeSize = 512;

    private readonly List<SafeHandle> _referenced = [];
    private void* _native;

    internal SpawnFileActions()
    {
        _native = NativeMemory.AllocZeroed(NativeSize);
        var rc = Init(_native);
        if (rc != 0)
        {
            NativeMemory.Free(_native);
            _native = null;
            throw Errno.Exception(rc, "posix_spawn_file_actions_init");
        }
    }

    internal void* Native => _native;

    /// <summary>The child opens <paramref name="path"/> as <paramref name="fd"/> (/dev/null as stdin ...).</summary>
    internal void AddOpen(int fd, string path, int flags, int mode = 0) =>
        Errno.CheckReturned(AddOpen(_native, fd, path, flags, mode), $"posix_spawn_file_actions_addopen {path} as fd {fd}");

    /// <summary>The child gets <paramref name="fd"/> as <paramref name="newFd"/> (without close-on-exec).</summary>
    internal void AddDup2(SafeHandle fd, int newFd)
    {
        var added = false;
        fd.DangerousAddRef(ref added);
        _referenced.Add(fd);
        var number = checked((int)fd.DangerousGetHandle());
        Errno.CheckReturned(AddDup2(_native, number, newFd), $"posix_spawn_file_actions_adddup2 {number} as fd {newFd}");
    }

    /// <summary>The child changes to <paramref name="directory"/> before exec (glibc 2.29+).</summary>
    internal void AddChdir(string directory) =>
        Errno.CheckReturned(AddChdir(_native, directory), $"posix_spawn_file_actions_addchdir_np {directory}");

    public void Dispose()
    {
        if (_native is not null)
        {
            _ = Destroy(_native);
            NativeMemory.Free(_native);
            _native = null;
        }
        foreach (var handle in _referenced)
            handle.DangerousRelease();
        _referenced.Clear();
    }

    // The posix_spawn family is declared here: Tmds.LibC has none of it. Each returns the error
    // number instead of setting errno, hence no SetLastError.
    [LibraryImport(Libc.Lib, EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int Init(void* actions);

    [LibraryImport(Libc.Lib, EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int Destroy(void* actions);

    [LibraryImport(Libc.Lib, EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int AddOpen(void* actions, int fd, string path, int flags, int mode);

    [LibraryImport(Libc.Lib, EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static partial int AddDup2(void* actions, int fd, int newFd);

    [LibraryImport(Libc.Lib, EntryPoint = "posix_spawn_file_actions_addchdir_np", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int AddChdir(void* actions, string path);
}
