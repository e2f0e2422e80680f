using Microsoft.Win32.SafeHandles;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Agent.Guest;

/// <summary>
/// Wakes when the guest's network devices change: a NETLINK_ROUTE socket subscribed to RTMGRP_LINK. The
/// kernel announces a new device (RTM_NEWLINK) after its /sys/class/net entry exists, so a caller opens
/// the watch, looks, and if the device is not there yet waits here and looks again: no change can be
/// missed between the look and the wait, and nothing is polled.
/// </summary>
internal sealed class LinkWatch : IDisposable
{
    private readonly SafeFileHandle _socket;

    private LinkWatch(SafeFileHandle socket) => _socket = socket;

    /// <summary>The watch, or null when netlink is not there (then the caller falls back to retrying).</summary>
    internal static LinkWatch? TryOpen()
    {
        var socket = Libc.Socket(SockaddrNl.AfNetlink, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC | LibC.SOCK_NONBLOCK, SockaddrNl.NetlinkRoute);
        if (socket.IsInvalid)
        {
            socket.Dispose();
            return null;
        }
        if (Libc.BindNetlink(socket, SockaddrNl.RtmgrpLink) != 0)
        {
            socket.Dispose();
            return null;
        }
        return new LinkWatch(socket);
    }

    /// <summary>
    /// Waits until a link message arrives or <paramref name="timeout"/> passes (a blocked pool thread:
    /// this runs only while a hot-plugged NIC is being probed), then drains what arrived.
    /// </summary>
    internal async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var ms = (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue);
        await Task.Run(() => Libc.Poll(_socket, LibC.POLLIN, ms, out _), cancellationToken).ConfigureAwait(false);
        var buffer = new byte[16 * 1024];
        while (Libc.Read(_socket, buffer) > 0)
        {
            // Only the wake-up matters: the caller looks at /sys/class/net again.
        }
    }

    public void Dispose() => _socket.Dispose();
}
