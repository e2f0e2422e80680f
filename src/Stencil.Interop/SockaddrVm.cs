using System.Runtime.InteropServices;

namespace Stencil.Interop;

/// <summary>struct sockaddr_vm (linux/vm_sockets.h); Tmds.LibC does not define it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SockaddrVm
{
    /// <summary>VMADDR_CID_ANY: bind to any of this VM's context ids.</summary>
    internal const uint AnyCid = 0xFFFFFFFF;

    public ushort Family;
    public ushort Reserved;
    public uint Port;
    public uint Cid;
    public uint Zero;
}
