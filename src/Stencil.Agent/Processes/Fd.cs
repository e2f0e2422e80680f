using Microsoft.Win32.SafeHandles;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Agent.Processes;

/// <summary>Small helpers for the pipes a child gets as its stdio.</summary>
internal static class Fd
{
    /// <summary>A pipe with both ends O_CLOEXEC (a spawn's dup2 clears the flag on the child's copy).</summary>
    internal static (SafeFileHandle Read, SafeFileHandle Write) Pipe() => Libc.Pipe2(LibC.O_CLOEXEC);

    /// <summary>Gives up ownership of <paramref name="handle"/>'s fd, for an owner that takes a raw fd (a Socket's handle).</summary>
    internal static int Release(SafeFileHandle handle)
    {
        var fd = checked((int)handle.DangerousGetHandle());
        handle.SetHandleAsInvalid();
        return fd;
    }
}
