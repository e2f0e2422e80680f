using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.Events;
using Stencil.Protocols.Containerd.EventsService;
using Stencil.Ttrpc;
using Xunit.Abstractions;

namespace Stencil.Containerd.Tests;

/// <summary>
/// Stencil.Ttrpc against containerd's own ttRPC server: an event forwarded the way a shim forwards it
/// is decoded by containerd and shown by `ctr events`, and containerd's answers to unknown methods
/// come back as Stencil errors.
/// </summary>
[Collection(nameof(ContainerdCollection))]
public class EventsForwardTests(ContainerdFixture fixture, ITestOutputHelper output) : IClassFixture<ContainerdFixture>
{
    private const string EventsService = "containerd.services.events.ttrpc.v1.Events";
    private static readonly TtrpcMethod<ForwardRequest, Empty> s_forward = new(EventsService, "Forward");

    private static readonly TtrpcCallOptions s_defaultNamespace = new()
    {
        Timeout = TimeSpan.FromSeconds(5),
        Metadata = [new("containerd-namespace-ttrpc", "default")],
    };

    private static ForwardRequest OomEvent(string containerId) => new()
    {
        Envelope = new Envelope
        {
            Timestamp = Timestamp.FromDateTime(DateTime.UtcNow),
            Namespace = "default",
            Topic = "/tasks/oom",
            // Built by hand: Any.Pack would prefix type.googleapis.com/, and containerd registers the bare name.
            Event = new Any
            {
                TypeUrl = "containerd.events.TaskOOM",
                Value = new TaskOOM { ContainerId = containerId }.ToByteString(),
            },
        },
    };

    [Fact]
    public async Task A_forwarded_TaskOOM_is_decoded_by_containerd_and_shown_by_ctr_events()
    {
        var containerd = fixture.Containerd;
        await using var events = containerd.StartCtr("default", "events");
        await using var client = await TtrpcClient.ConnectAsync(containerd.TtrpcAddress);

        // `ctr events` prints nothing when its subscription starts, so forward until a line shows up.
        string? line = null;
        for (var attempt = 0; attempt < 40 && line is null; attempt++)
        {
            await client.CallAsync(s_forward, OomEvent("stencil-interop-1"), s_defaultNamespace);
            try
            {
                line = await events.WaitForLineAsync(l => l.Contains("/tasks/oom"), TimeSpan.FromMilliseconds(500));
            }
            catch (TimeoutException) when (!events.HasExited)
            {
            }
        }

        Assert.True(line is not null, $"ctr events printed no /tasks/oom line; stdout: {string.Join("\n", events.StdoutLines)}; stderr: {events.Stderr}");
        output.WriteLine($"ctr events: {line}");
        // ctr prints "TIMESTAMP NAMESPACE TOPIC JSON"; the JSON exists only if containerd could decode the Any.
        Assert.Matches(@" default /tasks/oom \{""container_id"":""stencil-interop-1""\}$", line);
    }

    [Fact]
    public async Task An_unknown_method_of_a_known_service_is_Unimplemented()
    {
        await using var client = await TtrpcClient.ConnectAsync(fixture.Containerd.TtrpcAddress);
        var ex = await Assert.ThrowsAsync<StencilException>(() =>
            client.CallAsync(new TtrpcMethod<Empty, Empty>(EventsService, "NoSuchMethod"), new Empty(), s_defaultNamespace));
        Assert.Equal(ErrorKind.Unimplemented, ex.Kind);
        Assert.Equal("method NoSuchMethod", ex.Message);
    }

    [Fact]
    public async Task An_unknown_service_is_Unimplemented()
    {
        await using var client = await TtrpcClient.ConnectAsync(fixture.Containerd.TtrpcAddress);
        var ex = await Assert.ThrowsAsync<StencilException>(() =>
            client.CallAsync(new TtrpcMethod<Empty, Empty>("stencil.test.v1.Nothing", "Anything"), new Empty(), s_defaultNamespace));
        Assert.Equal(ErrorKind.Unimplemented, ex.Kind);
        Assert.Equal("service stencil.test.v1.Nothing", ex.Message);
    }
}
