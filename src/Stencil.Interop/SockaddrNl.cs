using System.Runtime.InteropServices;

namespace Stencil.Interop;

/// <summary>struct sockaddr_nl (linux/netlink.h), for a netlink socket that listens to multicast groups.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SockaddrNl
{
    /// <summary>AF_NETLINK.</summary>
    internal const int AfNetlink = 16;

    /// <summary>NETLINK_ROUTE: links, addresses, routes.</summary>
    internal const int NetlinkRoute = 0;

    /// <summary>RTMGRP_LINK: a message whenever a network device is added, changed or removed.</summary>
    internal const uint RtmgrpLink = 1;

    public ushort Family;
    public ushort Pad;
    public uint Pid;
    public uint Groups;
}
