using System.Text;
using Stencil.Agent.Containers;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class OciLogTests
{
    [Fact]
    public void Runc_error_line_wins_over_later_info()
    {
        var log = """
            {"level":"info","msg":"starting","time":"2024-01-01T00:00:00Z"}
            {"level":"error","msg":"runc run failed: unable to start container process: exec: \"nosuch\": executable file not found in $PATH","time":"2024-01-01T00:00:01Z"}
            {"level":"info","msg":"cleanup","time":"2024-01-01T00:00:02Z"}
            """;
        Assert.Equal("runc run failed: unable to start container process: exec: \"nosuch\": executable file not found in $PATH",
            OciLog.LastError(Encoding.UTF8.GetBytes(log)));
    }

    [Fact]
    public void Crun_member_order()
    {
        var log = "{\"msg\": \"executable file `nosuch` not found in $PATH: No such file or directory\", \"level\": \"error\", \"time\": \"2024-01-01T00:00:00.000000Z\"}\n";
        Assert.Equal("executable file `nosuch` not found in $PATH: No such file or directory", OciLog.LastError(Encoding.UTF8.GetBytes(log)));
    }

    [Fact]
    public void Plain_text_is_kept()
    {
        Assert.Equal("panic: something", OciLog.LastError("panic: something\n"u8));
    }

    [Fact]
    public void Empty_log_has_no_error() => Assert.Null(OciLog.LastError(""u8));
}
