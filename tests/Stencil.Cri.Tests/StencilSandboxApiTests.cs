using System.Diagnostics;
using Grpc.Core;
using Stencil.Cri.V1;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests;

/// <summary>
/// Pods through containerd 2.x's sandbox API (handler stencil-sandbox, `sandboxer = "shim"`): the shim is
/// the pod's sandbox, its VM starts at RunPodSandbox and no pause container runs, neither in containerd's
/// list nor in the guest. The kubelet's sequence works as with a pause container, and nothing is left.
/// A hostNetwork pod is not tried here: containerd before 2.3 dereferences the sandbox's nil spec and
/// crashes before it calls the shim (containerd commit b32cecd); the shim's refusal is a unit test.
/// </summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilSandboxApiTests(StencilCriFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan s_execTimeout = TimeSpan.FromSeconds(20);

    private CriClient Client => fixture.Client;

    [Fact]
    public Task A_pod_runs_without_a_pause_container_and_is_removed_without_leftovers() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        RequireSandboxApi();
        var clock = Stopwatch.StartNew();
        var config = CriConfig.Sandbox("sbapi-lifecycle", fixture.LogDirectory("sbapi-lifecycle"));
        await using var pod = await CriPod.RunAsync(Client, config, StencilCriFixture.SandboxHandler);
        output.WriteLine($"RunPodSandbox: {clock.ElapsedMilliseconds} ms");
        var status = await pod.StatusAsync();
        Assert.Equal(PodSandboxState.SandboxReady, status.State);
        Assert.Equal(StencilCriFixture.SandboxHandler, status.RuntimeHandler);
        Assert.StartsWith("10.88.232.", status.Network?.Ip, StringComparison.Ordinal);
        // The VM is up before any container: it is the sandbox.
        Assert.Single(fixture.QemuProcesses());
        // containerd keeps no container for the sandbox (a pause container would be one).
        var containers = (await fixture.Containerd.CtrAsync("k8s.io", "containers", "ls", "-q")).EnsureSuccess("ctr containers ls");
        Assert.DoesNotContain(pod.Id, containers.Split('\n', StringSplitOptions.TrimEntries));

        var app = await pod.RunContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage,
            "sh", "-c", "trap 'exit 0' TERM; echo started; sleep 3600 & wait"));
        var exec = await Client.ExecSyncAsync(app, ["sh", "-c", "echo out; echo err >&2; exit 3"], s_execTimeout);
        output.WriteLine($"first ExecSync answered: {clock.ElapsedMilliseconds} ms");
        Assert.Equal(3, exec.ExitCode);
        Assert.Equal("out\n", exec.StdoutText);
        Assert.Equal("err\n", exec.StderrText);
        // The guest runs no pause process.
        var ps = await Client.ExecSyncAsync(app, ["ps", "-o", "args"], s_execTimeout);
        Assert.DoesNotContain("sleep 2147483647", ps.StdoutText, StringComparison.Ordinal);

        // The last container going away keeps the sandbox's VM: it is the pod's, not the container's.
        await pod.RemoveContainerAsync(app, TimeSpan.Zero);
        Assert.Equal(PodSandboxState.SandboxReady, (await pod.StatusAsync()).State);
        Assert.Single(fixture.QemuProcesses());
        var second = await pod.RunContainerAsync(CriConfig.Container("again", CriContainerdFixture.BusyboxImage, "sleep", "3600"));
        Assert.Equal(0, (await Client.ExecSyncAsync(second, ["true"], s_execTimeout)).ExitCode);

        await Client.StopPodSandboxAsync(pod.Id);
        Assert.Equal(PodSandboxState.SandboxNotready, (await pod.StatusAsync()).State);
        Assert.Empty(fixture.QemuProcesses());
        await pod.RemoveAsync();
        output.WriteLine($"pod removed: {clock.ElapsedMilliseconds} ms");
        await AssertNothingLeftAsync();
    });

    /// <summary>The sandbox API is containerd 2.x's: on 1.x the handler is a plain pause-container one.</summary>
    private void RequireSandboxApi()
    {
        if (fixture.Containerd.Version is not { Major: >= 2 } version)
            throw new InvalidOperationException($"the sandbox API tests need containerd 2.x; this run has {fixture.Containerd.Version} (run them with STENCIL_CONTAINERD_FULL=sid)");
        output.WriteLine($"containerd {version}");
    }

    private async Task AssertNothingLeftAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (fixture.StencilProcesses().Count > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        var processes = fixture.StencilProcesses();
        Assert.True(processes.Count == 0, "processes left:\n" + string.Join('\n', processes));
        var mounts = fixture.LeftoverMounts();
        Assert.True(mounts.Count == 0, "mounts left:\n" + string.Join('\n', mounts));
        var state = fixture.LeftoverPodState();
        Assert.True(state.Count == 0, "pod state left:\n" + string.Join('\n', state));
    }
}
