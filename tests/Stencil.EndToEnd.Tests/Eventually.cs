namespace Stencil.EndToEnd.Tests;

/// <summary>Waiting for a condition, and the "nothing left behind" check every end-to-end test ends with.</summary>
internal static class Eventually
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>No QEMU, shim daemon, mount or pod state of this run is left (waits for them to go).</summary>
    public static Task NothingLeftAsync(StencilContainerd s) =>
        UntilAsync(() => Task.FromResult(s.LeftoverProcesses().Count == 0 && s.LeftoverMounts().Count == 0 && s.LeftoverPodState().Count == 0),
            "no QEMU, shim, mount or pod state left",
            () => string.Join("\n", s.LeftoverProcesses().Concat(s.LeftoverMounts()).Concat(s.LeftoverPodState())));

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, Func<string>? describe = null)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for: {what}\n{describe?.Invoke()}");
            await Task.Delay(200);
        }
    }
}
