using System.IO.Pipes;
using Stencil.Hypervisor.Tests.Support;

namespace Stencil.Hypervisor.Tests;

/// <summary>getfd with SCM_RIGHTS against real QEMU.</summary>
[Collection(QemuCollection.Name)]
public sealed class FdPassingTests
{
    [Fact]
    public async Task Qemu_accepts_a_pipe_fd_and_refuses_getfd_without_one()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("vm"));
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);

        await vm.Qmp.SendFdAsync("pipe0", pipe.SafePipeHandle);
        await vm.Qmp.CloseFdAsync("pipe0");

        // Without SCM_RIGHTS, QEMU says so: proof that SendFdAsync really attached the fd.
        var bare = await Assert.ThrowsAsync<StencilException>(() => vm.Qmp.ExecuteAsync("getfd", w => w.WriteString("fdname", "pipe1")));
        Assert.Contains("No file descriptor supplied via SCM_RIGHTS", bare.Message);

        var closed = await Assert.ThrowsAsync<StencilException>(() => vm.Qmp.CloseFdAsync("pipe0"));
        Assert.Contains("'closefd'", closed.Message);
        Assert.Contains("pipe0", closed.Message);
    }

    [Fact]
    public async Task A_closed_handle_is_refused_before_anything_is_sent()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("vm"));
        var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        var handle = pipe.SafePipeHandle;
        pipe.Dispose();
        var ex = await Assert.ThrowsAsync<StencilException>(() => vm.Qmp.SendFdAsync("pipe0", handle));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal("running", await vm.QueryStatusAsync());
    }
}
