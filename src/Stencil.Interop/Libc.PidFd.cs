using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Stencil.Interop;

internal static partial class Libc
{
    // x86-64 syscall numbers, called through syscall(2): Tmds.LibC declares neither call, and
    // glibc's own wrappers are newer than some hosts' glibc. Linux >= 5.3 (pidfd_open).
    private const long SysPidfdSendSignal = 424;
    private const long SysPidfdOpen = 434;

    /// <summary>
    /// pidfd_open(2): an fd that refers to process <paramref name="pid"/> itself, not to whatever
    /// later reuses the number. It becomes readable (POLLIN) when the process exits, also for a
    /// process that is not our child (a QEMU handed over by the factory daemon). Invalid on failure
    /// (ESRCH: no such process).
    /// </summary>
    internal static SafeFileHandle PidfdOpen(int pid)
    {
        var fd = (int)SyscallPid(SysPidfdOpen, pid, 0);
        return new SafeFileHandle(fd, ownsHandle: fd >= 0);
    }

    /// <summary>pidfd_send_signal(2): 0, or -1 (ESRCH once the process has exited).</summary>
    internal static int PidfdSendSignal(SafeHandle pidfd, int signal)
    {
        using var lease = new FdLease(pidfd);
        return (int)SyscallSignal(SysPidfdSendSignal, lease.Fd, signal, IntPtr.Zero, 0);
    }

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    private static partial long SyscallPid(long number, int pid, uint flags);

    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true)]
    private static partial long SyscallSignal(long number, int pidfd, int signal, IntPtr info, uint flags);
}
