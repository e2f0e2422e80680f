using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Factory.Internal;

/// <summary>
/// An exclusive flock(2) on a lock file, so that shims starting at the same moment build the template
/// once. flock is per open file description: two opens in one process exclude each other too, and the
/// kernel drops the lock when the holder dies. The file is opened with open(2) rather than FileStream,
/// whose own advisory locking would make a waiter's open fail instead of wait; O_CLOEXEC keeps it out
/// of the QEMU processes started while it is held.
/// </summary>
internal sealed class FileLock : IDisposable
{
    private static readonly TimeSpan s_retry = TimeSpan.FromMilliseconds(20);

    private readonly SafeFileHandle _handle;

    private FileLock(SafeFileHandle handle, string path)
    {
        _handle = handle;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Waits (polling, so it can be cancelled) until the lock is ours or <paramref name="timeout"/> passes.</summary>
    public static async Task<FileLock> AcquireAsync(string path, TimeSpan timeout, string purpose, CancellationToken cancellationToken)
    {
        // /run is empty after every boot: the folder the lock lives in (/run/stencil) is made here, private
        // (0700), rather than expected from an earlier pod.
        PrivateFiles.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var handle = Libc.Open(path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_CLOEXEC | LibC.O_NOFOLLOW, 0x180 /* 0600 */);
        if (handle.IsInvalid)
            throw Errno.LastException($"opening lock file {path}");
        try
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                if (Libc.Flock(handle, Libc.LOCK_EX | Libc.LOCK_NB) == 0)
                    return new FileLock(handle, path);
                var errno = Errno.Last;
                if (errno != LibC.EWOULDBLOCK && errno != LibC.EINTR)
                    throw Errno.Exception(errno, $"locking {path}");
                if (DateTime.UtcNow >= deadline)
                {
                    throw new StencilException(ErrorKind.DeadlineExceeded,
                        $"waited {timeout.TotalSeconds:0.#} s for the lock {path} ({purpose}); another process holds it");
                }
                await Task.Delay(s_retry, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Closing the descriptor releases the lock.</summary>
    public void Dispose() => _handle.Dispose();
}
