using Stencil.Hypervisor;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Vm;
using Stencil.TestSupport;

namespace Stencil.Factory.Tests.Unit;

/// <summary>configuration.toml -> factory options, and the factory's own argument checks.</summary>
[Trait("Category", "Unit")]
public sealed class ConfigurationTests
{
    [Fact]
    public void The_default_kernel_command_line_is_the_guest_images_one()
    {
        var file = File.ReadAllText(Path.Combine(RepoPaths.Root, "config", "guest", "cmdline")).Trim();
        Assert.Equal(GuestKernelCommandLine.Default, file);
        Assert.Equal(file + " stencil.debug loglevel=7", GuestKernelCommandLine.Compose(" loglevel=7 ", agentDebug: true));
        Assert.Equal(file, GuestKernelCommandLine.Compose("", agentDebug: false));
        Assert.Equal(file + " norandmaps stencil.debug", GuestKernelCommandLine.Compose(null, agentDebug: true, addressRandomization: false));
    }

    [Theory]
    [InlineData("auto", Accelerator.Tcg, false)]
    [InlineData("auto", Accelerator.Kvm, true)]
    [InlineData("on", Accelerator.Tcg, true)]
    [InlineData("off", Accelerator.Kvm, false)]
    public void Guest_address_randomization_is_off_under_tcg_unless_configured(string setting, Accelerator accelerator, bool expected)
    {
        Assert.Equal(expected, FactoryOptionsFromConfig.AddressRandomization(setting, accelerator));
    }

    [Theory]
    [InlineData("on", false)]
    [InlineData("off", true)]
    public void Guest_address_randomization_reaches_the_kernel_command_line(string setting, bool norandmaps)
    {
        var config = StencilConfig.Defaults with { Hypervisor = StencilConfig.Defaults.Hypervisor with { GuestAddressRandomization = setting } };
        Assert.Equal(norandmaps, FactoryOptionsFromConfig.Create(config).Description.Kernel!.CommandLine?.Contains(" norandmaps", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void The_defaults_map_to_a_hotpluggable_q35_vm_with_the_share_vmgenid_and_a_template()
    {
        var meminfo = Path.GetTempFileName();
        try
        {
            File.WriteAllText(meminfo, "MemTotal:       24563124 kB\nMemFree:        1 kB\n");
            var options = FactoryOptionsFromConfig.Create(StencilConfig.Defaults, meminfo);
            var d = options.Description;
            Assert.Equal("q35", d.Machine);
            Assert.Equal(new CpuTopology(1, Environment.ProcessorCount), d.Cpus);
            Assert.Equal(new MemoryLayout(256, 23 * 1024, 10), d.Memory);
            var randomized = d.Accelerator == Accelerator.Kvm;
            Assert.Equal(new KernelBoot("/usr/share/stencil/vmlinux", "/usr/share/stencil/initrd",
                GuestKernelCommandLine.Default + (randomized ? "" : " norandmaps")), d.Kernel);
            Assert.Equal(4, d.HotplugRootPorts);
            Assert.Equal(new SharedFolderDevice(PodVmRequest.SharedMountTag), d.SharedFolder);
            Assert.True(d.VmGenId);
            Assert.True(d.SerialConsole);
            Assert.Null(d.FirmwarePath);
            Assert.Equal("/usr/bin/qemu-system-x86_64", options.Qemu.QemuBinary);
            Assert.True(options.EnableTemplate);
            Assert.Equal("/run/stencil/template", options.TemplatePath);
            Assert.Equal("/run/stencil/pool", options.PoolDirectory);
            Assert.Equal(2, options.PoolSize);
            Assert.Equal(TimeSpan.FromSeconds(300), options.TemplateBuildTimeout);
            Assert.Equal(TimeSpan.FromSeconds(45), options.AgentTimeout);
            Assert.Equal((256L * 3 + 64) << 20, options.TemplateTmpfsBytes);
        }
        finally
        {
            File.Delete(meminfo);
        }
    }

    [Fact]
    public void Configured_values_reach_the_options()
    {
        var config = StencilConfig.Defaults with
        {
            Hypervisor = StencilConfig.Defaults.Hypervisor with
            {
                DefaultVcpus = 2, DefaultMaxVcpus = 6, DefaultMemory = 512, MemorySlots = 0, KernelParams = "loglevel=3", Firmware = "/fw.bin",
                EnableVmgenid = false, GuestAddressRandomization = "on",
            },
            Factory = StencilConfig.Defaults.Factory with { EnableTemplate = false, TemplatePath = "/run/x", PoolSize = 3, TemplateBuildTimeout = 60 },
            Agent = StencilConfig.Defaults.Agent with { DialTimeout = 9, EnableDebug = true },
            Runtime = StencilConfig.Defaults.Runtime with { StateDir = "/run/s" },
        };
        var options = FactoryOptionsFromConfig.Create(config);
        Assert.Equal(new CpuTopology(2, 6), options.Description.Cpus);
        Assert.Equal(MemoryLayout.Fixed(512), options.Description.Memory);
        Assert.EndsWith(" stencil.debug loglevel=3", options.Description.Kernel!.CommandLine);
        Assert.Equal("/fw.bin", options.Description.FirmwarePath);
        Assert.False(options.Description.VmGenId);
        Assert.False(options.EnableTemplate);
        Assert.Equal(("/run/x", "/run/s/pool", 3), (options.TemplatePath, options.PoolDirectory, options.PoolSize));
        Assert.Equal((TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(9)), (options.TemplateBuildTimeout, options.AgentTimeout));
    }

    [Fact]
    public async Task The_factory_refuses_bad_options_and_requests_with_the_value_named()
    {
        var options = new VmFactoryOptions { Description = new VmDescription { Kernel = new KernelBoot("/k") }, TemplatePath = "/tmp/stencil-test-factory-none" };
        Assert.Equal(ErrorKind.InvalidArgument, Assert.Throws<StencilException>(() => new VmFactory(options with { PoolSize = -1 }, NullLog.Instance)).Kind);
        Assert.Equal(ErrorKind.InvalidArgument,
            Assert.Throws<StencilException>(() => new VmFactory(options with { Description = new VmDescription() }, NullLog.Instance)).Kind);
        await using var factory = new VmFactory(options, NullLog.Instance);
        var ex = await Assert.ThrowsAsync<StencilException>(() => factory.StartVmAsync(new VmRequest("pod x", "/nonexistent/run", null)));
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Equal("run directory \"/nonexistent/run\" of pod x does not exist", ex.Message);
        Assert.Equal(ErrorKind.FailedPrecondition, Assert.Throws<StencilException>(() => factory.StartPool()).Kind);
        var missing = await Assert.ThrowsAsync<StencilException>(() => factory.GetFingerprintAsync());
        Assert.Equal("guest kernel /k does not exist", missing.Message);
        var status = await factory.GetStatusAsync();
        Assert.Equal(missing.Message, status.FingerprintProblem);
        Assert.Empty(status.Templates);
        Assert.False(status.TmpfsMounted);
    }
}
