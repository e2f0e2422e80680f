using Stencil.Shim.Logging;

namespace Stencil.Shim.Tests;

[Trait("Category", "Unit")]
public sealed class LogrusFormatTests
{
    private static readonly DateTimeOffset s_time = new DateTimeOffset(2026, 11, 25, 20, 30, 0, TimeSpan.Zero).AddTicks(1234567);

    [Fact]
    public void Writes_time_level_msg_then_sorted_fields()
    {
        var line = LogrusFormat.Line(s_time, LogLevel.Info, "shim started",
            [new("namespace", "default"), new("id", "abc")]);

        Assert.Equal("time=\"2026-11-25T20:30:00.123456700Z\" level=info msg=\"shim started\" id=abc namespace=default\n", line);
    }

    [Fact]
    public void Quotes_only_values_that_need_it_as_Go_does()
    {
        var line = LogrusFormat.Line(s_time, LogLevel.Warning, "plain",
            [new("a", "x-y.z_/@^+9"), new("b", "has space"), new("c", "q\"uote\\"), new("d", "line\nbreak\t\u0001"), new("e", "")]);

        Assert.Equal("time=\"2026-11-25T20:30:00.123456700Z\" level=warning msg=plain a=x-y.z_/@^+9 b=\"has space\" "
            + "c=\"q\\\"uote\\\\\" d=\"line\\nbreak\\t\\x01\" e=\n", line);
    }

    [Fact]
    public void Timestamps_always_carry_nine_fraction_digits_in_utc()
    {
        Assert.Equal("2026-11-25T20:30:00.000000000Z", LogrusFormat.Timestamp(new DateTimeOffset(2026, 11, 25, 21, 30, 0, TimeSpan.FromHours(1))));
    }

    [Theory]
    [InlineData(LogLevel.Debug, "debug")]
    [InlineData(LogLevel.Info, "info")]
    [InlineData(LogLevel.Warning, "warning")]
    [InlineData(LogLevel.Error, "error")]
    public void Level_names_are_logrus_names(LogLevel level, string name) => Assert.Equal(name, LogrusFormat.LevelName(level));

    [Fact]
    public void The_log_drops_lines_below_its_level_and_adds_its_fields()
    {
        var lines = new List<string>();
        var log = new ShimLog(lines.Add, LogLevel.Info, [new("id", "c1")], new FixedTime(s_time));

        log.Debug("hidden");
        log.Info("shown", ShimLog.Field("pid", "42"));

        Assert.Equal(["time=\"2026-11-25T20:30:00.123456700Z\" level=info msg=shown id=c1 pid=42\n"], lines);
    }

    [Fact]
    public void A_failing_sink_never_throws()
    {
        var log = new ShimLog(_ => throw new IOException("pipe closed"), LogLevel.Debug, []);

        log.Error("still fine");
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
