using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Stencil.Runtime.Tests.Network;

/// <summary>Whole frames in and out of a tap fd opened with IFF_VNET_HDR: each read or write is one frame
/// behind a 10-byte virtio_net_hdr (all zero: no offloads).</summary>
internal static class TapFrames
{
    public const int VnetHeaderLength = 10;

    public static void Write(SafeFileHandle fd, ReadOnlySpan<byte> ethernetFrame)
    {
        var buffer = new byte[VnetHeaderLength + ethernetFrame.Length];
        ethernetFrame.CopyTo(buffer.AsSpan(VnetHeaderLength));
        var written = write(fd, buffer, buffer.Length);
        if (written != buffer.Length)
            throw new IOException($"write to the tap returned {written}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    /// <summary>The next frame (without the vnet header), or null when none arrives within <paramref name="timeout"/>.</summary>
    public static byte[]? Read(SafeFileHandle fd, TimeSpan timeout)
    {
        var pollFd = new PollFd { Fd = (int)fd.DangerousGetHandle(), Events = PollIn };
        var ready = poll(ref pollFd, 1, (int)timeout.TotalMilliseconds);
        if (ready < 0)
            throw new IOException("poll on the tap: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        if (ready == 0)
            return null;
        var buffer = new byte[65536];
        var read = read_(fd, buffer, buffer.Length);
        if (read < VnetHeaderLength)
            throw new IOException($"read from the tap returned {read}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        return buffer.AsSpan(VnetHeaderLength, (int)read - VnetHeaderLength).ToArray();
    }

    private const short PollIn = 1;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern nint write(SafeFileHandle fd, byte[] buffer, nint count);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    private static extern nint read_(SafeFileHandle fd, byte[] buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern int poll(ref PollFd fds, nuint count, int timeoutMilliseconds);
}
