namespace Stencil.Hypervisor.Tests;

/// <summary>How QEMU is started: directly, or through setpriv with its capabilities bounded.</summary>
[Trait("Category", "Unit")]
public sealed class QemuLaunchTests
{
    private static readonly string[] s_qemuArgs = ["-machine", "q35", "-S"];

    [Fact]
    public void Without_capabilities_QEMU_is_started_itself()
    {
        var (file, args) = QemuCommandLine.Launch("/usr/bin/qemu-system-x86_64", s_qemuArgs, capabilities: null);
        Assert.Equal("/usr/bin/qemu-system-x86_64", file);
        Assert.Equal(s_qemuArgs, args);
    }

    [Fact]
    public void With_capabilities_setpriv_bounds_them_and_executes_QEMU()
    {
        var (file, args) = QemuCommandLine.Launch("/usr/bin/qemu-system-x86_64", s_qemuArgs, "chown,fowner,mknod");
        Assert.Equal("/usr/bin/setpriv", file);
        Assert.Equal(
            ["--bounding-set=-all,+chown,+fowner,+mknod", "--inh-caps=-all", "--ambient-caps=-all", "--",
             "/usr/bin/qemu-system-x86_64", "-machine", "q35", "-S"],
            args);
    }

    [Fact]
    public void An_empty_list_keeps_no_capability()
    {
        var (_, args) = QemuCommandLine.Launch("qemu", [], "");
        Assert.Equal("--bounding-set=-all", args[0]);
    }

    [Theory]
    [InlineData("CHOWN")]
    [InlineData("cap_chown")]
    [InlineData("chown,,fowner")]
    [InlineData("chown,chown")]
    [InlineData("chown;reboot")]
    public void Bad_capability_lists_are_refused(string capabilities)
    {
        var ex = Assert.Throws<StencilException>(() => QemuCommandLine.Launch("qemu", [], capabilities));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(capabilities, ex.Message);
    }

    [Fact]
    public void Capabilities_are_not_part_of_the_template_fingerprint()
    {
        var description = new VmDescription { Kernel = new KernelBoot("/k") };
        Assert.Equal(QemuCommandLine.FingerprintText(description), QemuCommandLine.FingerprintText(description with { Capabilities = "chown" }));
    }

    [Fact]
    public void Under_TCG_the_code_buffer_size_goes_on_accel_and_keeps_the_template()
    {
        var description = new VmDescription { Kernel = new KernelBoot("/k"), Accelerator = Accelerator.Tcg };
        var instance = new VmInstance(VmRole.Template, new VmInstancePaths("/q", "/a")) { MemoryFile = "/m" };
        Assert.Contains("tcg", QemuCommandLine.Build(description, instance));
        var sized = QemuCommandLine.Build(description with { TcgTranslationCacheMiB = 16 }, instance);
        Assert.Equal("tcg,tb-size=16", sized[sized.ToList().IndexOf("-accel") + 1]);
        Assert.Equal(QemuCommandLine.FingerprintText(description), QemuCommandLine.FingerprintText(description with { TcgTranslationCacheMiB = 16 }));
        var ex = Assert.Throws<StencilException>(() => QemuCommandLine.Build(description with { TcgTranslationCacheMiB = 4096 }, instance));
        Assert.Contains("tcg_translation_cache_mib = 4096", ex.Message);
    }

    [Fact]
    public void Guest_memory_is_kept_from_KSM_unless_asked_and_the_choice_keeps_the_template()
    {
        var description = new VmDescription { Kernel = new KernelBoot("/k"), Accelerator = Accelerator.Tcg };
        var instance = new VmInstance(VmRole.Template, new VmInstancePaths("/q", "/a")) { MemoryFile = "/m" };
        Assert.Equal(["-machine", "q35,mem-merge=off"], QemuCommandLine.Build(description, instance).Take(2));
        Assert.Equal(["-machine", "q35,mem-merge=on"], QemuCommandLine.Build(description with { MemoryMerge = true }, instance).Take(2));
        Assert.Equal(QemuCommandLine.FingerprintText(description), QemuCommandLine.FingerprintText(description with { MemoryMerge = true }));
    }
}
