using Stencil.Interop;
using Stencil.Agent.Logging;
using Tmds.Linux;

namespace Stencil.Agent.Guest;

/// <summary>
/// Mixes host randomness into the guest's RNG after a clone: every clone of a template starts with
/// the same RNG state. The bytes are written to /dev/random, credited (RNDADDTOENTCNT), and the
/// kernel is told to reseed its CRNG now (RNDRESEEDCRNG) instead of at its next interval.
/// </summary>
internal static class GuestEntropy
{
    internal const int MaxBytes = 4096;

    internal static unsafe void Reseed(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
            throw StencilException.InvalidArgument("data is empty: nothing to reseed with");
        if (data.Length > MaxBytes)
            throw StencilException.InvalidArgument($"data is {data.Length} bytes, more than {MaxBytes}");
        using (var fd = Errno.Check(Libc.Open("/dev/random", LibC.O_WRONLY | LibC.O_CLOEXEC), "open /dev/random"))
        {
            var written = 0;
            while (written < data.Length)
            {
                var n = Libc.Write(fd, data[written..]);
                if (n < 0 && Errno.Last == LibC.EINTR)
                    continue;
                Errno.Check(n, "write /dev/random");
                written += (int)n;
            }
            var bits = data.Length * 8;
            Errno.Check(Libc.Ioctl(fd, Libc.RNDADDTOENTCNT, &bits), "RNDADDTOENTCNT");
            Errno.Check(Libc.Ioctl(fd, Libc.RNDRESEEDCRNG, 0), "RNDRESEEDCRNG");
        }
        AgentLog.Debug($"reseeded the RNG with {data.Length} host bytes");
    }
}
