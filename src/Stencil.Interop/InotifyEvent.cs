using System.Runtime.InteropServices;

namespace Stencil.Interop;

/// <summary>struct inotify_event's fixed part; <see cref="NameLength"/> bytes of name follow it.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct InotifyEvent
{
    internal const int Size = 16;

    public int Watch;
    public uint Mask;
    public uint Cookie;
    public uint NameLength;
}
