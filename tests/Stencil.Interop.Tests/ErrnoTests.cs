using Tmds.Linux;

namespace Stencil.Interop.Tests;

/// <summary>The one errno table: what each errno means to a caller, and the message every layer writes.</summary>
[Trait("Category", "Unit")]
public class ErrnoTests
{
    [Theory]
    [InlineData(2, ErrorKind.NotFound)]             // ENOENT
    [InlineData(3, ErrorKind.NotFound)]             // ESRCH
    [InlineData(17, ErrorKind.AlreadyExists)]       // EEXIST
    [InlineData(22, ErrorKind.InvalidArgument)]     // EINVAL
    [InlineData(20, ErrorKind.InvalidArgument)]     // ENOTDIR
    [InlineData(1, ErrorKind.PermissionDenied)]     // EPERM
    [InlineData(13, ErrorKind.PermissionDenied)]    // EACCES
    [InlineData(16, ErrorKind.FailedPrecondition)]  // EBUSY
    [InlineData(11, ErrorKind.Unavailable)]         // EAGAIN
    [InlineData(12, ErrorKind.ResourceExhausted)]   // ENOMEM
    [InlineData(28, ErrorKind.ResourceExhausted)]   // ENOSPC
    [InlineData(24, ErrorKind.ResourceExhausted)]   // EMFILE
    [InlineData(23, ErrorKind.ResourceExhausted)]   // ENFILE
    [InlineData(5, ErrorKind.Internal)]             // EIO
    [InlineData(9, ErrorKind.Internal)]             // EBADF
    [InlineData(0, ErrorKind.Internal)]
    public void Each_errno_has_one_kind(int errno, ErrorKind kind)
    {
        Assert.Equal(kind, Errno.KindOf(errno));
        Assert.Equal(kind, Errno.Exception(errno, "x").Kind);
    }

    [Fact]
    public void The_message_names_the_operation_the_error_text_and_the_number()
    {
        var ex = Errno.Exception(LibC.ENOENT, "open /nowhere");

        Assert.Equal("open /nowhere: No such file or directory (errno 2)", ex.Message);
        Assert.Equal("sendmsg: Bad file descriptor (errno 9)", Errno.Describe("sendmsg", 9));
    }

    [Fact]
    public void Check_throws_with_the_errno_of_the_failed_call()
    {
        using var handle = Libc.Open("/nonexistent/stencil-interop-test", LibC.O_RDONLY | LibC.O_CLOEXEC);

        Assert.True(handle.IsInvalid);
        Assert.Equal(LibC.ENOENT, Errno.Last);
        var ex = Assert.Throws<StencilException>(() => Errno.Check(-1, "open /nonexistent/stencil-interop-test"));
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Equal("open /nonexistent/stencil-interop-test: No such file or directory (errno 2)", ex.Message);
    }

    [Fact]
    public void Check_passes_a_success_through()
    {
        Assert.Equal(7, Errno.Check(7, "x"));
        Assert.Equal((nint)0, Errno.Check((nint)0, "x"));
    }

    [Fact]
    public void An_invalid_handle_is_disposed_and_thrown_for()
    {
        var handle = Libc.Open("/nonexistent/x", LibC.O_RDONLY | LibC.O_CLOEXEC);

        var ex = Assert.Throws<StencilException>(() => Errno.Check(handle, "open /nonexistent/x"));

        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.True(handle.IsClosed);
    }

    [Fact]
    public void Returned_error_numbers_throw_only_when_not_zero()
    {
        Errno.CheckReturned(0, "posix_spawn");
        var ex = Assert.Throws<StencilException>(() => Errno.CheckReturned(LibC.EAGAIN, "posix_spawn /bin/x"));
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
        Assert.StartsWith("posix_spawn /bin/x: ", ex.Message, StringComparison.Ordinal);
    }
}
