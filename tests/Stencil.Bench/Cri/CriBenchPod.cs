using System.Diagnostics;
using Stencil.Cri;
using Stencil.Cri.Tests;

namespace Stencil.Bench.Cri;

/// <summary>
/// One benchmark pod through CRI: RunPodSandbox, CreateContainer + StartContainer of `sleep`, then
/// ExecSync `true` until it answers (the point a kubelet's exec probe would first pass).
/// </summary>
internal static class CriBenchPod
{
    private static readonly TimeSpan s_execTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Starts the pod, adds it to <paramref name="started"/> at once (so a failure later still
    /// removes it) and returns the seconds from RunPodSandbox to the first ExecSync answer.</summary>
    public static async Task<double> StartAsync(
        StencilCriFixture fixture, string name, string handler, ICollection<CriPod> started, CancellationToken token) =>
        (await StartTimedAsync(fixture, name, handler, started, token).ConfigureAwait(false)).Total;

    /// <summary>As <see cref="StartAsync"/>, with the seconds of each CRI call.</summary>
    public static async Task<CriStartTimes> StartTimedAsync(
        StencilCriFixture fixture, string name, string handler, ICollection<CriPod> started, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        var config = CriConfig.Sandbox(name, fixture.LogDirectory(name));
        var pod = await CriPod.RunAsync(fixture.Client, config, handler, token).ConfigureAwait(false);
        var run = clock.Elapsed.TotalSeconds;
        lock (started)
            started.Add(pod);
        var id = await pod.CreateContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage, "sleep", "3600"), token).ConfigureAwait(false);
        var create = clock.Elapsed.TotalSeconds;
        await fixture.Client.StartContainerAsync(id, token).ConfigureAwait(false);
        var start = clock.Elapsed.TotalSeconds;
        var exec = await fixture.Client.ExecSyncAsync(id, ["true"], s_execTimeout, token).ConfigureAwait(false);
        if (exec.ExitCode != 0)
            throw new InvalidOperationException($"pod {name} ({handler}): ExecSync true answered {exec}");
        var total = clock.Elapsed.TotalSeconds;
        return new CriStartTimes(run, create - run, start - create, total - start, total);
    }

    /// <summary>Removes the pods (containers, then sandbox), all at once; returns the seconds it took.</summary>
    public static async Task<double> RemoveAllAsync(ICollection<CriPod> pods, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        List<CriPod> all;
        lock (pods)
            all = [.. pods];
        await Task.WhenAll(all.Select(p => p.RemoveAsync(token))).ConfigureAwait(false);
        lock (pods)
            pods.Clear();
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>Best-effort removal after a failure (CriPod.DisposeAsync swallows RPC errors).</summary>
    public static async Task DisposeAllAsync(ICollection<CriPod> pods)
    {
        List<CriPod> all;
        lock (pods)
            all = [.. pods];
        foreach (var pod in all)
            await pod.DisposeAsync().ConfigureAwait(false);
        lock (pods)
            pods.Clear();
    }
}

/// <summary>Seconds of each CRI call of one pod start: RunPodSandbox, CreateContainer, StartContainer, the first ExecSync; and their sum.</summary>
internal sealed record CriStartTimes(double Run, double Create, double Start, double Exec, double Total);
