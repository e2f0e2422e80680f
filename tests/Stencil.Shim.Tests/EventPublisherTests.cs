using Stencil.Runtime;
using Stencil.Shim.Logging;
using Stencil.Shim.Serve;
using Ev = Stencil.Protocols.Containerd.Events;

namespace Stencil.Shim.Tests;

[Trait("Category", "Unit")]
public sealed class EventPublisherTests
{
    private static readonly DateTimeOffset s_time = new(2026, 11, 25, 20, 0, 0, TimeSpan.Zero);
    private static readonly EventPublisherOptions s_fast = new() { FirstRetryDelay = TimeSpan.FromMilliseconds(20), CallTimeout = TimeSpan.FromSeconds(2) };

    [Fact]
    public async Task Events_arrive_in_order_with_bare_type_urls_and_the_namespace_metadata()
    {
        using var dir = new TempDir();
        await using var containerd = new FakeEventsServer(dir.Combine("ttrpc.sock"));
        await using var publisher = new EventPublisher(containerd.SocketPath, "k8s.io", ShimLog.Null, s_fast);

        publisher.Publish(new TaskCreated(s_time, "c1", "/b", [], new StdioPaths("", "", "", false), 5));
        publisher.Publish(new TaskStarted(s_time, "c1", 5));
        publisher.Publish(new TaskExited(s_time, "c1", "", 5, 137, s_time));
        publisher.Publish(new TaskDeleted(s_time, "c1", 5, 137, s_time));
        await containerd.WaitForAsync(4);

        var received = containerd.Received.ToArray();
        Assert.Equal(["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"], received.Select(r => r.Envelope.Topic));
        Assert.Equal(["containerd.events.TaskCreate", "containerd.events.TaskStart", "containerd.events.TaskExit", "containerd.events.TaskDelete"],
            received.Select(r => r.Envelope.Event.TypeUrl));
        Assert.All(received, r => Assert.Equal("k8s.io", r.Namespace));
        Assert.All(received, r => Assert.Equal("k8s.io", r.Envelope.Namespace));
        Assert.Equal(137u, Ev.TaskExit.Parser.ParseFrom(received[2].Envelope.Event.Value).ExitStatus);
    }

    [Fact]
    public async Task The_runtime_event_stream_is_pumped_in_order()
    {
        using var dir = new TempDir();
        await using var containerd = new FakeEventsServer(dir.Combine("ttrpc.sock"));
        await using var publisher = new EventPublisher(containerd.SocketPath, "default", ShimLog.Null, s_fast);
        var runtime = new FakePodRuntime();
        var pump = publisher.PumpAsync(runtime.Events, CancellationToken.None);

        for (var i = 0; i < 50; i++)
            runtime.Emit(new TaskExecAdded(s_time, "c1", $"e{i}"));
        await runtime.DisposeAsync();
        await pump;
        await containerd.WaitForAsync(50);

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"e{i}"),
            containerd.Received.Select(r => Ev.TaskExecAdded.Parser.ParseFrom(r.Envelope.Event.Value).ExecId));
    }

    [Fact]
    public async Task Publishing_never_waits_for_containerd()
    {
        using var dir = new TempDir();
        var release = new TaskCompletionSource();
        await using var containerd = new FakeEventsServer(dir.Combine("ttrpc.sock"), _ => release.Task);
        await using var publisher = new EventPublisher(containerd.SocketPath, "default", ShimLog.Null, s_fast);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 100; i++)
            publisher.Publish(new TaskOom(s_time, "c1"));
        clock.Stop();
        release.SetResult();
        await containerd.WaitForAsync(100);

        // A publisher that waited would hang here (containerd never answers until released); the bound only has to tell that apart.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"publishing took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_containerd_that_comes_back_gets_the_event_after_a_reconnect()
    {
        using var dir = new TempDir();
        var socket = dir.Combine("ttrpc.sock");
        var lines = new List<string>();
        var log = new ShimLog(l => { lock (lines) lines.Add(l); }, LogLevel.Debug, []);
        await using var publisher = new EventPublisher(socket, "default", log, s_fast);

        publisher.Publish(new TaskStarted(s_time, "c1", 5));
        await Task.Delay(30); // the first attempt fails: nobody listens yet
        await using var containerd = new FakeEventsServer(socket);
        await containerd.WaitForAsync(1);

        Assert.Equal("/tasks/start", Assert.Single(containerd.Received).Envelope.Topic);
        lock (lines)
            Assert.Contains(lines, l => l.Contains("retrying", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_event_that_keeps_failing_is_dropped_and_the_next_one_still_goes()
    {
        using var dir = new TempDir();
        var failures = 0;
        await using var containerd = new FakeEventsServer(dir.Combine("ttrpc.sock"), envelope =>
            envelope.Topic == "/tasks/oom" && Interlocked.Increment(ref failures) > 0
                ? throw StencilException.Unavailable("containerd is busy")
                : Task.CompletedTask);
        await using var publisher = new EventPublisher(containerd.SocketPath, "default", ShimLog.Null, s_fast with { MaxAttempts = 3 });

        publisher.Publish(new TaskOom(s_time, "c1"));
        publisher.Publish(new TaskStarted(s_time, "c1", 5));
        await containerd.WaitForAsync(1);

        Assert.Equal(3, failures);
        Assert.Equal("/tasks/start", Assert.Single(containerd.Received).Envelope.Topic);
    }

    [Fact]
    public async Task Without_TTRPC_ADDRESS_events_are_dropped_quietly()
    {
        await using var publisher = new EventPublisher(null, "default", ShimLog.Null, s_fast);

        publisher.Publish(new TaskStarted(s_time, "c1", 5));
        await publisher.CompleteAsync(TimeSpan.FromSeconds(1));
    }
}
