namespace Stencil.Shim.Serve;

/// <summary>
/// A pod's shim daemon works in bursts (a container's create and start, an exec) and idles in between, often
/// for the pod's whole life; the GC keeps the memory a burst allocated committed until the next collection,
/// which an idle process never reaches. Once no call has run for <see cref="IdleAfter"/>, one aggressive
/// collection compacts the heap and gives its free regions back to the host; the next call re-arms it.
/// </summary>
internal static class IdleHeapTrim
{
    public static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_poll = TimeSpan.FromSeconds(1);

    private static int s_inFlight;
    private static long s_calls;
    private static long s_lastActivity = Environment.TickCount64;

    /// <summary>A service call begins (<see cref="ServiceCall"/>).</summary>
    public static void Enter()
    {
        Interlocked.Increment(ref s_inFlight);
        Interlocked.Increment(ref s_calls);
    }

    /// <summary>A service call ended.</summary>
    public static void Exit()
    {
        Volatile.Write(ref s_lastActivity, Environment.TickCount64);
        Interlocked.Decrement(ref s_inFlight);
    }

    /// <summary>Collects once after each burst of calls, until <paramref name="stop"/>.</summary>
    public static async Task RunAsync(CancellationToken stop)
    {
        long trimmedAt = -1;
        try
        {
            while (true)
            {
                await Task.Delay(s_poll, stop).ConfigureAwait(false);
                var calls = Interlocked.Read(ref s_calls);
                if (calls == trimmedAt || Volatile.Read(ref s_inFlight) > 0
                    || Environment.TickCount64 - Volatile.Read(ref s_lastActivity) < (long)IdleAfter.TotalMilliseconds)
                    continue;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                trimmedAt = calls;
            }
        }
        catch (OperationCanceledException)
        {
            // the daemon stops
        }
    }
}
