using Stencil.Factory.Tests.Support;
using Stencil.Runtime.Vm;

namespace Stencil.Factory.Tests.Vm;

/// <summary>The runtime's VM seam over the factory.</summary>
[Collection(TemplateCollection.Name)]
public sealed class ProviderTests(TemplateFixture fixture)
{
    [Fact]
    public async Task The_provider_gives_a_pod_a_template_clone_that_exports_the_pods_folder()
    {
        var request = fixture.Request("provider");
        var provider = new FactoryPodVmProvider(fixture.Factory);
        try
        {
            await using var vm = await provider.StartAsync(new PodVmRequest("pod test/provider", request.SharedDirectory!, request.RunDirectory), CancellationToken.None);
            Assert.Equal("template", vm.Origin);
            Assert.Equal(request.SharedDirectory, vm.SharedDirectory);
            Assert.NotNull(vm.ProcessId);
            Assert.InRange(vm.StartupTime, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(30));
            Assert.True(await vm.Agent.CheckAsync());
            Assert.False(vm.Exited.IsCompleted);
            await vm.DisposeAsync();
            await vm.Exited;
            Assert.Equal("stopped", vm.ExitReason);
        }
        finally
        {
            await provider.DisposeAsync();
            Scratch.Remove(fixture.Root, "provider");
        }
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }

    [Fact]
    public async Task A_vm_whose_qemu_dies_reports_why()
    {
        var request = fixture.Request("dies");
        try
        {
            await using var vm = await fixture.Factory.StartVmAsync(request);
            System.Diagnostics.Process.GetProcessById(vm.ProcessId!.Value).Kill();
            await vm.Exited.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Contains("qemu exited with code 137", vm.ExitReason);
        }
        finally
        {
            Scratch.Remove(fixture.Root, "dies");
        }
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }
}
