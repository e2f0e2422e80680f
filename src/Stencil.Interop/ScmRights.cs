using Tmds.Linux;

namespace Stencil.Interop;

/// <summary>
/// The control part of a message that carries one fd (SOL_SOCKET, SCM_RIGHTS): a cmsghdr (Tmds.LibC's
/// layout, 16 bytes on 64-bit Linux) followed by the int, padded to 8. Pure.
/// </summary>
internal static unsafe class ScmRights
{
    /// <summary>CMSG_LEN(sizeof(int)): the header and one fd.</summary>
    internal static readonly int LengthForOneFd = sizeof(cmsghdr) + sizeof(int);

    /// <summary>CMSG_SPACE(sizeof(int)): the length padded to the alignment of size_t.</summary>
    internal static readonly int SpaceForOneFd = (LengthForOneFd + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1);

    /// <summary>Writes a control message carrying <paramref name="fd"/> at the start of <paramref name="control"/>
    /// (at least <see cref="SpaceForOneFd"/> bytes); returns the control length to send.</summary>
    internal static int Write(Span<byte> control, int fd)
    {
        if (control.Length < SpaceForOneFd)
            throw new ArgumentException($"the control buffer needs {SpaceForOneFd} bytes", nameof(control));
        control[..SpaceForOneFd].Clear();
        fixed (byte* p = control)
        {
            var header = (cmsghdr*)p;
            header->cmsg_len = LengthForOneFd;
            header->cmsg_level = LibC.SOL_SOCKET;
            header->cmsg_type = LibC.SCM_RIGHTS;
            *(int*)(p + sizeof(cmsghdr)) = fd;
        }
        return SpaceForOneFd;
    }

    /// <summary>The fd of the first control message if it is SCM_RIGHTS; <paramref name="length"/> is
    /// what recvmsg left in msg_controllen.</summary>
    internal static bool TryRead(ReadOnlySpan<byte> control, int length, out int fd)
    {
        fd = -1;
        if (length < LengthForOneFd || control.Length < LengthForOneFd)
            return false;
        fixed (byte* p = control)
        {
            var header = (cmsghdr*)p;
            if (header->cmsg_level != LibC.SOL_SOCKET || header->cmsg_type != LibC.SCM_RIGHTS || (long)(ulong)header->cmsg_len < LengthForOneFd)
                return false;
            fd = *(int*)(p + sizeof(cmsghdr));
            return true;
        }
    }
}
