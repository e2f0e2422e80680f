using Google.Protobuf.WellKnownTypes;

namespace Stencil.Ttrpc.Tests;

/// <summary>
/// The methods the client/server tests call, on well-known message types so the tests need no .proto.
/// Each records what its handler saw, for the tests to assert on.
/// </summary>
internal sealed class TestService
{
    public const string Name = "stencil.test.v1.Test";

    public static readonly TtrpcMethod<StringValue, StringValue> Echo = new(Name, "Echo");
    /// <summary>Waits the given number of milliseconds (honouring cancellation), then answers.</summary>
    public static readonly TtrpcMethod<Int32Value, Int32Value> Delay = new(Name, "Delay");
    /// <summary>Throws StencilException of the kind named by the request, with message "failed: KIND".</summary>
    public static readonly TtrpcMethod<StringValue, Empty> Fail = new(Name, "Fail");
    /// <summary>Throws a plain InvalidOperationException("boom").</summary>
    public static readonly TtrpcMethod<Empty, Empty> Crash = new(Name, "Crash");
    /// <summary>Answers every metadata pair as "key=value" lines, plus the namespace lookup.</summary>
    public static readonly TtrpcMethod<Empty, StringValue> Metadata = new(Name, "Metadata");
    /// <summary>Waits until its CancellationToken fires, recording the context.</summary>
    public static readonly TtrpcMethod<Empty, Empty> WaitForCancel = new(Name, "WaitForCancel");
    /// <summary>Blocks its thread (no await) until <see cref="Release"/> is set.</summary>
    public static readonly TtrpcMethod<Empty, Empty> BlockThread = new(Name, "BlockThread");
    public static readonly TtrpcMethod<Empty, Empty> ReturnNull = new(Name, "ReturnNull");
    public static readonly TtrpcMethod<Empty, BytesValue> Big = new(Name, "Big");

    public static readonly TtrpcMethod<Empty, Empty> Unknown = new(Name, "NoSuchMethod");
    public static readonly TtrpcMethod<Empty, Empty> UnknownService = new("stencil.test.v1.Nothing", "Anything");

    public readonly ManualResetEventSlim Release = new();
    public readonly TaskCompletionSource<TtrpcCallContext> WaitStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public readonly TaskCompletionSource<(DateTimeOffset? Deadline, DateTimeOffset CancelledAt)> WaitCancelled =
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TtrpcServer CreateServer()
    {
        var server = new TtrpcServer();
        server.Register(Echo, (request, _) => Task.FromResult(new StringValue { Value = request.Value }));
        server.Register(Delay, async (request, context) =>
        {
            await Task.Delay(request.Value, context.CancellationToken);
            return new Int32Value { Value = request.Value };
        });
        server.Register(Fail, (request, _) =>
            Task.FromException<Empty>(new StencilException(System.Enum.Parse<ErrorKind>(request.Value), $"failed: {request.Value}")));
        server.Register(Crash, (_, _) => throw new InvalidOperationException("boom"));
        server.Register(Metadata, (_, context) => Task.FromResult(new StringValue
        {
            Value = string.Join("\n", context.Metadata.Select(kv => $"{kv.Key}={kv.Value}"))
                + $"\nnamespace={context.GetMetadata("Containerd-Namespace-TTRPC") ?? "(none)"}",
        }));
        server.Register(WaitForCancel, async (_, context) =>
        {
            WaitStarted.TrySetResult(context);
            try
            {
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }
            finally
            {
                WaitCancelled.TrySetResult((context.Deadline, DateTimeOffset.UtcNow));
            }
            return new Empty();
        });
        server.Register(BlockThread, (_, _) =>
        {
            Release.Wait(TimeSpan.FromSeconds(30));
            return Task.FromResult(new Empty());
        });
        server.Register(ReturnNull, (_, _) => Task.FromResult<Empty>(null!));
        server.Register(Big, (_, _) => Task.FromResult(new BytesValue { Value = Google.Protobuf.ByteString.CopyFrom(new byte[5 << 20]) }));
        return server;
    }
}
