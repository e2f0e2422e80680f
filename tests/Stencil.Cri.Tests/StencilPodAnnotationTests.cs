using Grpc.Core;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests;

/// <summary>
/// The io.stencil.* pod annotations (config/annotations.md) reach the shim through containerd's
/// pod_annotations and size the pod's VM.
/// </summary>
[Collection(StencilCriCollection.Name)]
public sealed class StencilPodAnnotationTests(StencilCriFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan s_execTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public Task A_pod_annotated_with_two_vcpus_sees_two_cpus() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var config = CriConfig.Sandbox("vcpus2", fixture.LogDirectory("vcpus2"));
        config.Annotations["io.stencil.vcpus"] = "2";
        await using var pod = await CriPod.RunAsync(fixture.Client, config, StencilCriFixture.Handler);
        var id = await pod.RunContainerAsync(CriConfig.Container("app", CriContainerdFixture.BusyboxImage, "sleep", "3600"));
        var nproc = await fixture.Client.ExecSyncAsync(id, ["nproc"], s_execTimeout);
        Assert.True(nproc.ExitCode == 0, $"nproc: {nproc}");
        Assert.Equal("2", nproc.StdoutText.Trim());
        await pod.RemoveAsync();
        Assert.Empty(fixture.QemuProcesses());
    });

    [Fact]
    public Task A_bad_vcpus_annotation_fails_RunPodSandbox_naming_it_and_its_value() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var config = CriConfig.Sandbox("vcpus-bad", fixture.LogDirectory("vcpus-bad"));
        config.Annotations["io.stencil.vcpus"] = "two";
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await using var pod = await CriPod.RunAsync(fixture.Client, config, StencilCriFixture.Handler);
        });
        output.WriteLine($"RunPodSandbox: {error.StatusCode}: {error.Status.Detail}");
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("io.stencil.vcpus=\"two\"", error.Status.Detail);
        Assert.Empty(fixture.QemuProcesses());
    });
}
