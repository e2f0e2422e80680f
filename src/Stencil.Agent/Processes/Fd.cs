using Stencil.Agent.Interop;

namespace Stencil.Agent.Processes;

/// <summary>Small helpers for raw fds that are handed to children and then closed.</summary>
internal static unsafe class Fd
{
    /// <summary>A pipe with both ends O_CLOEXEC (a spawn's dup2 clears the flag on the child's copy).</summary>
    internal static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        Errno.Check(Libc.Pipe2(fds, Libc.O_CLOEXEC), "pipe2");
        return (fds[0], fds[1]);
    }

    internal static void Close(int fd)
    {
        if (fd >= 0)
            Libc.Close(fd);
    }

    /// <summary>Best effort: a bigger pipe lets a chatty container run ahead of the host's reads.</summary>
    internal static void TryGrowPipe(int fd, int size) => Libc.Fcntl(fd, Libc.F_SETPIPE_SZ, size);
}
