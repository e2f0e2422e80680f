using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

/// <summary>
/// A posix_spawnattr_t for a child that starts clean: every signal at its default action (the .NET
/// runtime ignores SIGPIPE, and ignored signals are inherited across exec), an empty signal mask,
/// and optionally a session of its own (setsid), out of reach of signals sent to our process group.
/// </summary>
internal sealed unsafe partial class SpawnAttributes : IDisposable
{
    // glibc x86_64 and aarch64: 336 bytes. The buffer is larger, so a different layout cannot overrun it.
    internal const int NativeSize = 1024;

    internal const short POSIX_SPAWN_SETSIGDEF = 0x04;
    internal const short POSIX_SPAWN_SETSIGMASK = 0x08;
    internal const short POSIX_SPAWN_SETSID = 0x80;

    private void* _native;

    internal SpawnAttributes(bool newSession)
    {
        _native = NativeMemory.AllocZeroed(NativeSize);
        var rc = Init(_native);
        if (rc != 0)
        {
            NativeMemory.Free(_native);
            _native = null;
            throw Errno.Exception(rc, "posix_spawnattr_init");
        }
        try
        {
            sigset_t signals;
            _ = LibC.sigfillset(&signals); // fails only for an invalid pointer
            Errno.CheckReturned(SetSigDefault(_native, &signals), "posix_spawnattr_setsigdefault");
            _ = LibC.sigemptyset(&signals);
            Errno.CheckReturned(SetSigMask(_native, &signals), "posix_spawnattr_setsigmask");
            var flags = (short)(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (newSession ? POSIX_SPAWN_SETSID : 0));
            Errno.CheckReturned(SetFlags(_native, flags), "posix_spawnattr_setflags");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    internal void* Native => _native;

    public void Dispose()
    {
        if (_native is null)
            return;
        _ = Destroy(_native);
        NativeMemory.Free(_native);
        _native = null;
    }

    // Declared here: Tmds.LibC has no posix_spawnattr_*. They return the error number (no errno).
    [LibraryImport(Libc.Lib, EntryPoint = "posix_spawnattr_init")]
    private static partial int Init(void* attr);

    [LibraryImport(Libc.Lib, EntryPoint = "posix_spawnattr_destroy")]
    private static partial int Destroy(void* attr);

    [LibraryImport(Libc.Lib, EntryPoint = "posix_spawnattr_setflags")]
    private static partial int SetFlags(void* attr, short flags);

    [LibraryImport(Libc.Lib, EntryPoint = "posix_spawnattr_setsigmask")]
    private static partial int SetSigMask(void* attr, sigset_t* signals);

    [LibraryImport(Libc.Lib, EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int SetSigDefault(void* attr, sigset_t* signals);
}
