using System.Runtime.InteropServices;

namespace Stencil.Shim.Tests.EndToEnd;

/// <summary>The few libc calls the end-to-end tests need (FIFOs as containerd makes them).</summary>
internal static class Native
{
    public const int O_RDONLY = 0;
    public const int O_NONBLOCK = 0x800;

    [DllImport("libc", SetLastError = true)]
    public static extern int mkfifo(string path, uint mode);

    [DllImport("libc", SetLastError = true)]
    public static extern int open(string path, int flags);

    [DllImport("libc", SetLastError = true)]
    public static extern nint read(int fd, byte[] buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);
}
