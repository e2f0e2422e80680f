using System.Runtime.InteropServices;

namespace Stencil.Hypervisor.Internal.Interop;

internal static unsafe partial class Libc
{
    public const int SOL_SOCKET = 1;
    public const int SCM_RIGHTS = 1;
    public const int MSG_NOSIGNAL = 0x4000;

    /// <summary>struct iovec (x86_64 / arm64 Linux).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IOVector
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr (x86_64 / arm64 Linux): the int after msg_name is padded to 8 by sequential layout.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IOVector* IOVectors;
        public nuint IOVectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct cmsghdr; the data follows at CMSG_DATA = 16 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ControlMessageHeader
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendmsg(SafeHandle socket, MessageHeader* message, int flags);
}
