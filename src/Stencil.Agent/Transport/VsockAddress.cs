using System.Runtime.InteropServices;

namespace Stencil.Agent.Transport;

/// <summary>struct sockaddr_vm (linux/vm_sockets.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VsockAddress
{
    internal const uint AnyCid = 0xFFFFFFFF;

    public ushort Family;
    public ushort Reserved;
    public uint Port;
    public uint Cid;
    public uint Zero;
}
