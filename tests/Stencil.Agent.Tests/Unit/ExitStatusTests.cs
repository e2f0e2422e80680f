using Stencil.Agent.Processes;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class ExitStatusTests
{
    private static readonly DateTimeOffset s_at = DateTimeOffset.UnixEpoch;

    [Theory]
    [InlineData(0x0000, 0, 0)]        // exit(0)
    [InlineData(0x0100, 1, 0)]        // exit(1)
    [InlineData(0x7f00, 127, 0)]      // command not found
    [InlineData(0xff00, 255, 0)]
    [InlineData(0x0009, 137, 9)]      // SIGKILL
    [InlineData(0x000f, 143, 15)]     // SIGTERM
    [InlineData(0x0086, 134, 6)]      // SIGABRT with core dump (0x80)
    public void Decodes_wait_status(int status, int exitCode, int signal)
    {
        var s = ExitStatus.FromWaitStatus(42, status, s_at);
        Assert.Equal(exitCode, s.ExitCode);
        Assert.Equal(signal, s.Signal);
        Assert.Equal(42, s.Pid);
    }

    [Fact]
    public void Stopped_status_is_not_an_exit() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ExitStatus.FromWaitStatus(1, 0x137f, s_at));
}
