using System.Diagnostics;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Ttrpc;

namespace Stencil.Bench;

/// <summary>
/// Unary echo calls over one unix-socket connection (how the shim talks to the agent and containerd
/// to the shim), with 1 and 16 concurrent callers multiplexed on it.
/// </summary>
public sealed class TtrpcBenchmark : IBenchmark
{
    private static readonly TtrpcMethod<BytesValue, BytesValue> s_echo = new("stencil.bench.v1.Bench", "Echo");
    private static readonly int[] s_callers = [1, 16];
    private const int PayloadBytes = 64;

    public string Name => "ttrpc";

    public string Description => "ttRPC unary echo over a unix socket: calls/s, p50, p99 with 1 and 16 callers";

    public async Task RunAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("stencil-bench-").FullName;
        var socket = Path.Combine(directory, "ttrpc.sock");
        await using var server = new TtrpcServer();
        server.Register(s_echo, (request, _) => Task.FromResult(request));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var listening = server.ListenAsync(socket, stop.Token);
        try
        {
            await WaitForSocketAsync(socket, listening);
            await using var client = await TtrpcClient.ConnectAsync(socket, cancellationToken);
            var request = new BytesValue { Value = ByteString.CopyFrom(new byte[PayloadBytes]) };

            output.WriteLine($"ttrpc: unary echo, {PayloadBytes}-byte payload, one unix-socket connection, " +
                $"{options.Warmup.TotalSeconds:0.#} s warm-up + {options.Duration.TotalSeconds:0.#} s per row, {Environment.ProcessorCount} CPUs");
            output.WriteLine($"{"callers",7} {"calls/s",10} {"p50 (us)",9} {"p99 (us)",9}");
            foreach (var callers in s_callers)
            {
                await MeasureAsync(client, request, callers, options.Warmup, cancellationToken);
                var (calls, elapsed, latencies) = await MeasureAsync(client, request, callers, options.Duration, cancellationToken);
                var (p50, p99) = Latencies.Percentiles(latencies);
                output.WriteLine($"{callers,7} {calls / elapsed.TotalSeconds,10:0} {p50,9:0.0} {p99,9:0.0}");
            }
        }
        finally
        {
            stop.Cancel();
            await listening;
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<(long Calls, TimeSpan Elapsed, Latencies[] Latencies)> MeasureAsync(
        TtrpcClient client, BytesValue request, int callers, TimeSpan duration, CancellationToken cancellationToken)
    {
        var latencies = Enumerable.Range(0, callers).Select(_ => new Latencies()).ToArray();
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(latencies.Select(mine => Task.Run(async () =>
        {
            while (true)
            {
                var before = Stopwatch.GetTimestamp();
                if (before >= end)
                    return;
                var response = await client.CallAsync(s_echo, request, cancellationToken: cancellationToken);
                mine.Add(Stopwatch.GetTimestamp() - before);
                if (response.Value.Length != PayloadBytes)
                    throw new InvalidOperationException($"echo returned {response.Value.Length} bytes, sent {PayloadBytes}");
            }
        }, cancellationToken)));
        var elapsed = Stopwatch.GetElapsedTime(started);
        return (latencies.Sum(l => (long)l.Count), elapsed, latencies);
    }

    private static async Task WaitForSocketAsync(string socket, Task listening)
    {
        for (var i = 0; i < 500 && !File.Exists(socket); i++)
        {
            if (listening.IsCompleted)
                await listening; // surfaces the reason it could not listen
            await Task.Delay(10);
        }
        if (!File.Exists(socket))
            throw new TimeoutException($"the ttrpc server never created {socket}");
    }
}
