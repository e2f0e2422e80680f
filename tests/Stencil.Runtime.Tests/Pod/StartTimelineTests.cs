using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests.Pod;

[Trait("Category", "Unit")]
public sealed class StartTimelineTests
{
    private static readonly StartTimeline s_timeline = new(DateTimeOffset.FromUnixTimeMilliseconds(1_796_000_000_123), "default", "web-1",
        19.6, "template", 230.2, 15, 310.4, 120, 700.49);

    [Fact]
    public void The_info_line_names_every_phase_in_whole_milliseconds() =>
        Assert.Equal("pod web-1 started: shim 20 ms, vm template 230 ms, storage 15 ms, guest create 310 ms, start 120 ms, total 700 ms",
            s_timeline.Describe());

    [Fact]
    public void An_unknown_shim_time_is_left_out_of_the_line() =>
        Assert.Equal("pod web-1 started: vm cold boot 1800 ms, storage 15 ms, guest create 310 ms, start 120 ms, total 2300 ms",
            (s_timeline with { ShimMs = null, VmSource = "cold boot", VmMs = 1800, TotalMs = 2300 }).Describe());

    [Fact]
    public void The_record_is_one_line_of_tab_separated_fields() =>
        Assert.Equal("v=1\tat=1796000000123\tnamespace=default\tpod=web-1\tshim_ms=20\tvm=template\tvm_ms=230\tstorage_ms=15\t" +
            "guest_create_ms=310\tstart_ms=120\ttotal_ms=700\n", s_timeline.ToRecord());

    [Fact]
    public void A_record_reads_back_to_the_timeline_in_whole_milliseconds()
    {
        var read = StartTimeline.TryParseRecord(s_timeline.ToRecord(), out var error);
        Assert.Null(error);
        Assert.Equal(s_timeline with { ShimMs = 20, VmMs = 230, GuestCreateMs = 310, TotalMs = 700 }, read);
    }

    [Fact]
    public void A_record_without_a_shim_time_reads_back_with_none()
    {
        var read = StartTimeline.TryParseRecord((s_timeline with { ShimMs = null }).ToRecord(), out _);
        Assert.Null(read!.ShimMs);
    }

    [Theory]
    [InlineData("v=2\tat=1", "version \"2\" is not 1")]
    [InlineData("garbage", "field \"garbage\" is not key=value")]
    [InlineData("v=1\tat=1\tnamespace=default\tpod=p\tvm=pool\tvm_ms=1\tstorage_ms=1\tguest_create_ms=1\tstart_ms=1", "total_ms is missing")]
    [InlineData("v=1\tat=x\tnamespace=default\tpod=p\tvm=pool\tvm_ms=1\tstorage_ms=1\tguest_create_ms=1\tstart_ms=1\ttotal_ms=1", "at \"x\" is not a time in unix milliseconds")]
    [InlineData("v=1\tat=1\tnamespace=default\tpod=p\tvm=pool\tvm_ms=-1\tstorage_ms=1\tguest_create_ms=1\tstart_ms=1\ttotal_ms=1", "vm_ms \"-1\" is not a number of milliseconds")]
    public void A_line_that_is_not_a_record_says_why(string line, string expected)
    {
        Assert.Null(StartTimeline.TryParseRecord(line, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void Step_times_format_in_order_in_whole_milliseconds() =>
        Assert.Equal("plan 2 ms, vm template 231 ms, guest create 0 ms",
            StepTimes.Format([("plan", 1.6), ("vm template", 230.7), ("guest create", 0.2)]));
}
