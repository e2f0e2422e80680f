using System.Runtime.InteropServices;

namespace Stencil.Agent.Interop;

/// <summary>
/// The libc calls the agent makes directly (glibc, x86_64 and aarch64 layouts). Every call sets
/// errno, which <see cref="Errno"/> turns into a StencilException in one place.
/// </summary>
internal static unsafe partial class Libc
{
    private const string Lib = "libc";

    // --- files ---------------------------------------------------------------------------------
    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(int fd, byte* buffer, nint count);

    [LibraryImport(Lib, EntryPoint = "pipe2", SetLastError = true)]
    internal static partial int Pipe2(int* fds, int flags);

    [LibraryImport(Lib, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(int fd, int cmd, int arg);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(int fd, ulong request, void* arg);

    [LibraryImport(Lib, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int IoctlInt(int fd, ulong request, int arg);

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    internal static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport(Lib, EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial byte* Realpath(string path, byte* resolved);

    [LibraryImport(Lib, EntryPoint = "free")]
    internal static partial void Free(void* p);

    // --- processes -----------------------------------------------------------------------------
    [LibraryImport(Lib, EntryPoint = "getpid")]
    internal static partial int GetPid();

    [LibraryImport(Lib, EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    [LibraryImport(Lib, EntryPoint = "waitpid", SetLastError = true)]
    internal static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport(Lib, EntryPoint = "prctl", SetLastError = true)]
    internal static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    // posix_spawn returns the error number instead of setting errno.
    [LibraryImport(Lib, EntryPoint = "posix_spawn")]
    internal static partial int PosixSpawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_init")]
    internal static partial int SpawnFileActionsInit(void* actions);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_destroy")]
    internal static partial int SpawnFileActionsDestroy(void* actions);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_adddup2")]
    internal static partial int SpawnFileActionsAddDup2(void* actions, int fd, int newFd);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SpawnFileActionsAddOpen(void* actions, int fd, string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_addchdir_np", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int SpawnFileActionsAddChdir(void* actions, string path);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_init")]
    internal static partial int SpawnAttrInit(void* attr);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_destroy")]
    internal static partial int SpawnAttrDestroy(void* attr);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setflags")]
    internal static partial int SpawnAttrSetFlags(void* attr, short flags);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setsigmask")]
    internal static partial int SpawnAttrSetSigMask(void* attr, void* sigset);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setsigdefault")]
    internal static partial int SpawnAttrSetSigDefault(void* attr, void* sigset);

    [LibraryImport(Lib, EntryPoint = "sigemptyset")]
    internal static partial int SigEmptySet(void* set);

    [LibraryImport(Lib, EntryPoint = "sigfillset")]
    internal static partial int SigFillSet(void* set);

    // --- system --------------------------------------------------------------------------------
    [LibraryImport(Lib, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mount(string? source, string target, string? fstype, ulong flags, string? data);

    [LibraryImport(Lib, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Umount2(string target, int flags);

    [LibraryImport(Lib, EntryPoint = "sethostname", SetLastError = true)]
    internal static partial int SetHostname(byte* name, nuint length);

    [LibraryImport(Lib, EntryPoint = "clock_settime", SetLastError = true)]
    internal static partial int ClockSettime(int clock, TimeSpec* time);

    [LibraryImport(Lib, EntryPoint = "uname", SetLastError = true)]
    internal static partial int Uname(byte* buffer);

    [LibraryImport(Lib, EntryPoint = "inotify_init1", SetLastError = true)]
    internal static partial int InotifyInit1(int flags);

    [LibraryImport(Lib, EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int InotifyAddWatch(int fd, string path, uint mask);

    [LibraryImport(Lib, EntryPoint = "inotify_rm_watch", SetLastError = true)]
    internal static partial int InotifyRmWatch(int fd, int wd);

    [LibraryImport(Lib, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Lib, EntryPoint = "bind", SetLastError = true)]
    internal static partial int Bind(int fd, void* address, uint length);

    [LibraryImport(Lib, EntryPoint = "listen", SetLastError = true)]
    internal static partial int Listen(int fd, int backlog);

    [LibraryImport(Lib, EntryPoint = "accept4", SetLastError = true)]
    internal static partial int Accept4(int fd, void* address, void* length, int flags);

    [LibraryImport(Lib, EntryPoint = "recvmsg", SetLastError = true)]
    internal static partial nint RecvMsg(int fd, MsgHdr* msg, int flags);

    // --- constants (Linux generic ABI, as on x86_64 and aarch64) --------------------------------
    internal const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2;
    internal const int O_CREAT = 0x40, O_NOCTTY = 0x100, O_NONBLOCK = 0x800, O_ASYNC = 0x2000;
    internal const int O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000, O_PATH = 0x200000;

    internal const int F_SETOWN = 8, F_GETFL = 3, F_SETFL = 4, F_SETPIPE_SZ = 1031;

    internal const short POLLIN = 0x1, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10;

    internal const int EINTR = 4, ECHILD = 10, EAGAIN = 11, ENOENT = 2, ESRCH = 3, EIO = 5, EPIPE = 32;
    internal const int EINVAL = 22, EBUSY = 16, EPERM = 1, EACCES = 13, EEXIST = 17, ENOTDIR = 20;

    internal const int PR_SET_CHILD_SUBREAPER = 36;

    internal const short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08, POSIX_SPAWN_SETSID = 0x80;

    internal const ulong MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32;
    internal const ulong MS_BIND = 4096, MS_REC = 16384, MS_PRIVATE = 1 << 18;
    internal const int MNT_DETACH = 2;

    internal const int CLOCK_REALTIME = 0;

    internal const ulong TIOCSWINSZ = 0x5414;
    internal const ulong RNDADDTOENTCNT = 0x40045201; // _IOW('R', 0x01, int)
    internal const ulong RNDRESEEDCRNG = 0x5207;      // _IO('R', 0x07)

    internal const int SOL_SOCKET = 1, SCM_RIGHTS = 1;
    internal const int AF_VSOCK = 40, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;

    internal const uint IN_MODIFY = 0x2;

    // glibc sizes, rounded up: posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128.
    internal const int SpawnFileActionsSize = 128, SpawnAttrSize = 512, SigSetSize = 128;
    // struct utsname: six fields of 65 bytes.
    internal const int UtsFieldLength = 65;
}

[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public int Fd;
    public short Events;
    public short REvents;
}

[StructLayout(LayoutKind.Sequential)]
internal struct TimeSpec
{
    public long Seconds;
    public long Nanoseconds;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public void* Base;
    public nuint Length;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MsgHdr
{
    public void* Name;
    public uint NameLength;
    public IoVec* Iov;
    public nuint IovLength;
    public void* Control;
    public nuint ControlLength;
    public int Flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct WinSize
{
    public ushort Rows;
    public ushort Columns;
    public ushort XPixels;
    public ushort YPixels;
}
