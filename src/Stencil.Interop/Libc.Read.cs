using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>read(2): the byte count, 0 at end of file, -1 on failure.</summary>
    internal static nint Read(SafeHandle fd, Span<byte> buffer)
    {
        using var lease = new FdLease(fd);
        fixed (byte* p = buffer)
            return (nint)(long)LibC.read(lease.Fd, p, buffer.Length);
    }
}
