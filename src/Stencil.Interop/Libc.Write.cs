using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>write(2): the byte count written (possibly short), -1 on failure.</summary>
    internal static nint Write(SafeHandle fd, ReadOnlySpan<byte> data)
    {
        using var lease = new FdLease(fd);
        fixed (byte* p = data)
            return (nint)(long)LibC.write(lease.Fd, p, data.Length);
    }
}
