using System.Net.Sockets;
using Tmds.Linux;

namespace Stencil.Interop.Tests;

/// <summary>The wrappers against the real libc: strings, SafeHandles and errno arrive where they should.</summary>
[Trait("Category", "Unit")]
public class LibcTests
{
    [Fact]
    public void A_pipe_carries_bytes_and_reports_end_of_file()
    {
        var (reader, writer) = Libc.Pipe2(LibC.O_CLOEXEC);
        using (reader)
        {
            using (writer)
                Assert.Equal(5, Libc.Write(writer, "hello"u8));
            Assert.Equal(1, Libc.Poll(reader, LibC.POLLIN, 1000, out var revents));
            Assert.NotEqual(0, revents & LibC.POLLIN);
            var buffer = new byte[16];
            Assert.Equal(5, Libc.Read(reader, buffer));
            Assert.Equal(0, Libc.Read(reader, buffer));
        }
    }

    [Fact]
    public void Poll_times_out_with_nothing_to_read()
    {
        var (reader, writer) = Libc.Pipe2(LibC.O_CLOEXEC);
        using (reader)
        using (writer)
            Assert.Equal(0, Libc.Poll(reader, LibC.POLLIN, 0, out _));
    }

    [Fact]
    public void Realpath_resolves_and_reports_a_missing_path()
    {
        Assert.Equal("/", Libc.RealPath("/tmp/.."));
        Assert.Null(Libc.RealPath("/nonexistent/stencil"));
        Assert.Equal(LibC.ENOENT, Errno.Last);
    }

    [Fact]
    public void Kill_of_no_process_is_esrch_which_is_not_found()
    {
        Assert.Equal(-1, Libc.Kill(int.MaxValue, 0));
        Assert.Equal(ErrorKind.NotFound, Errno.LastException("kill").Kind);
    }

    [Fact]
    public void Waitpid_without_children_is_echild()
    {
        Assert.Equal(-1, Libc.WaitPid(int.MaxValue, out _, Libc.WNOHANG));
        Assert.Equal(LibC.ECHILD, Errno.Last);
    }

    [Fact]
    public void The_kernel_release_is_uname_r()
    {
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), Libc.KernelRelease());
    }

    [Fact]
    public void Statx_sees_a_file_and_a_missing_path()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(file, new byte[1234]);
            Assert.Equal(0, Libc.Statx(file, LibC.STATX_SIZE | LibC.STATX_INO, out var facts));
            Assert.Equal(1234UL, facts.stx_size);
            Assert.False(Libc.IsBlockDevice(file));
            Assert.Equal(-1, Libc.Statx(file + ".missing", LibC.STATX_SIZE, out _));
            Assert.Equal(LibC.ENOENT, Errno.Last);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_unix_listener_binds_once_and_an_fd_travels_over_a_socket_pair()
    {
        var path = Path.Combine(Path.GetTempPath(), $"stencil-interop-{Environment.ProcessId}.sock");
        File.Delete(path);
        try
        {
            using var listener = Errno.Check(Libc.Socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0), "socket");
            Assert.Equal(0, Libc.BindUnix(listener, path));
            Assert.Equal(0, Libc.Listen(listener, 1));
            using var second = Errno.Check(Libc.Socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0), "socket");
            Assert.Equal(-1, Libc.BindUnix(second, path));
            Assert.Equal(LibC.EADDRINUSE, Errno.Last);

            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            client.Connect(new UnixDomainSocketEndPoint(path));
            using var accepted = Libc.Accept4(listener, LibC.SOCK_CLOEXEC);
            Assert.False(accepted.IsInvalid);
            using var server = new Socket(accepted);

            var (reader, writer) = Libc.Pipe2(LibC.O_CLOEXEC);
            using (reader)
            using (writer)
            {
                Assert.Equal(1, Libc.SendMsgWithFd(client.SafeHandle, "x"u8, writer, LibC.MSG_NOSIGNAL));
                var data = new byte[8];
                Assert.Equal(1, Libc.RecvMsgWithFd(server.SafeHandle, data, LibC.MSG_CMSG_CLOEXEC, out var fd));
                Assert.True(fd >= 0);
                Assert.Equal(0, Libc.Close(fd));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_unix_path_too_long_for_sockaddr_un_is_an_invalid_argument()
    {
        var path = "/tmp/" + new string('x', 110);

        var ex = Assert.Throws<StencilException>(() => UnixAddress.CheckLength(path, "shim socket"));

        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal($"shim socket path {path} is 115 bytes long; it must be shorter than 108", ex.Message);
    }

    [Fact]
    public void A_spawned_child_gets_its_fds_and_its_exit_is_reaped()
    {
        var (reader, writer) = Libc.Pipe2(LibC.O_CLOEXEC);
        using (reader)
        {
            int pid;
            using (writer)
            {
                using var actions = new SpawnFileActions();
                actions.AddOpen(0, "/dev/null", LibC.O_RDONLY);
                actions.AddDup2(writer, 1);
                using var attributes = new SpawnAttributes(newSession: true);
                Assert.Equal(0, Libc.PosixSpawn("/bin/sh", ["sh", "-c", "echo $FOO; exit 3"], ["FOO=bar"], actions, attributes, out pid));
            }
            var output = new byte[64];
            var n = Libc.Read(reader, output);
            Assert.Equal("bar\n", System.Text.Encoding.ASCII.GetString(output, 0, (int)n));
            Assert.Equal(pid, Libc.WaitPid(pid, out var status, 0));
            Assert.Equal(3, (status >> 8) & 0xff);
        }
    }

    [Fact]
    public void A_program_that_does_not_exist_is_not_found()
    {
        using var actions = new SpawnFileActions();
        using var attributes = new SpawnAttributes(newSession: false);

        var rc = Libc.PosixSpawn("/nonexistent/program", ["program"], [], actions, attributes, out var pid);

        Assert.Equal(LibC.ENOENT, rc);
        Assert.Equal(0, pid);
    }
}
