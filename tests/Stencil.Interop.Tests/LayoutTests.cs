using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Stencil.Interop.Tests;

/// <summary>Struct sizes and offsets against the kernel's and glibc's (x86_64 and aarch64 Linux).</summary>
[Trait("Category", "Unit")]
public unsafe class LayoutTests
{
    [Fact]
    public void The_structs_we_define_have_the_kernel_layout()
    {
        Assert.Equal(16, sizeof(SockaddrVm));
        Assert.Equal(8, (int)Marshal.OffsetOf<SockaddrVm>(nameof(SockaddrVm.Cid)));
        Assert.Equal(40, sizeof(IfReq));
        Assert.Equal(16, (int)Marshal.OffsetOf<IfReq>(nameof(IfReq.Flags)));
        Assert.Equal(16, sizeof(InotifyEvent));
        Assert.Equal(12, (int)Marshal.OffsetOf<InotifyEvent>(nameof(InotifyEvent.NameLength)));
    }

    [Fact]
    public void Tmds_structs_we_rely_on_have_the_kernel_layout()
    {
        Assert.Equal(56, sizeof(msghdr));
        Assert.Equal(16, sizeof(cmsghdr));
        Assert.Equal(16, sizeof(iovec));
        Assert.Equal(8, sizeof(pollfd));
        Assert.Equal(16, sizeof(timespec));
        Assert.Equal(8, sizeof(winsize));
        Assert.Equal(110, sizeof(sockaddr_un));
        Assert.Equal(128, sizeof(sigset_t));
        // statx: one layout on every architecture; the Factory reads ino, size, blocks and mtime.
        Assert.Equal(256, sizeof(statx));
        var s = default(statx);
        var p = (byte*)&s;
        Assert.Equal(28, (byte*)&s.stx_mode - p);
        Assert.Equal(32, (byte*)&s.stx_ino - p);
        Assert.Equal(40, (byte*)&s.stx_size - p);
        Assert.Equal(48, (byte*)&s.stx_blocks - p);
        Assert.Equal(112, (byte*)&s.stx_mtime - p);
    }

    [Fact]
    public void One_fd_takes_a_20_byte_control_message_in_24_bytes()
    {
        Assert.Equal(20, ScmRights.LengthForOneFd);
        Assert.Equal(24, ScmRights.SpaceForOneFd);
    }

    [Fact]
    public void An_fd_written_to_a_control_message_reads_back()
    {
        Span<byte> control = stackalloc byte[ScmRights.SpaceForOneFd];

        var length = ScmRights.Write(control, 42);

        Assert.Equal(24, length);
        Assert.Equal(20UL, BitConverter.ToUInt64(control[..8]));      // cmsg_len
        Assert.Equal(1, BitConverter.ToInt32(control[8..12]));        // SOL_SOCKET
        Assert.Equal(1, BitConverter.ToInt32(control[12..16]));       // SCM_RIGHTS
        Assert.True(ScmRights.TryRead(control, length, out var fd));
        Assert.Equal(42, fd);
    }

    [Fact]
    public void A_control_message_that_is_not_scm_rights_carries_no_fd()
    {
        Span<byte> control = stackalloc byte[ScmRights.SpaceForOneFd];
        ScmRights.Write(control, 42);
        control[12] = 2; // SCM_CREDENTIALS

        Assert.False(ScmRights.TryRead(control, 24, out var fd));
        Assert.Equal(-1, fd);
        Assert.False(ScmRights.TryRead(control, 0, out _));
    }

    [Fact]
    public void An_ifreq_holds_the_name_then_the_flags()
    {
        var request = IfReq.For("tap0", 0x5002);
        var bytes = new ReadOnlySpan<byte>(&request, IfReq.Size);

        Assert.Equal("tap0\0"u8.ToArray(), bytes[..5].ToArray());
        Assert.Equal(0x5002, BitConverter.ToInt16(bytes[16..18]));
    }

    [Fact]
    public void Tmds_constants_we_use_have_the_linux_values()
    {
        Assert.Equal(0x80000, LibC.O_CLOEXEC);
        Assert.Equal(0x200000, LibC.O_PATH);
        Assert.Equal(0x800, LibC.O_NONBLOCK);
        Assert.Equal(0x2000, LibC.O_ASYNC);
        Assert.Equal(1031, LibC.F_SETPIPE_SZ);
        Assert.Equal(1030, LibC.F_DUPFD_CLOEXEC);
        Assert.Equal(0x5414, LibC.TIOCSWINSZ);
        Assert.Equal(16UL, (ulong)LibC.MS_SYNCHRONOUS);
        Assert.Equal(1024UL, (ulong)LibC.MS_NOATIME);
        Assert.Equal(2048UL, (ulong)LibC.MS_NODIRATIME);
        Assert.Equal(1UL << 21, (ulong)LibC.MS_RELATIME);
        Assert.Equal(1UL << 24, (ulong)LibC.MS_STRICTATIME);
        Assert.Equal(4096UL, (ulong)LibC.MS_BIND);
        Assert.Equal(2, LibC.MNT_DETACH);
        Assert.Equal(40, (int)LibC.AF_VSOCK);
        Assert.Equal(0x40000000, LibC.MSG_CMSG_CLOEXEC);
        Assert.Equal(0x40000000, LibC.CLONE_NEWNET);
        Assert.Equal(29, LibC.SIGIO);
    }
}
