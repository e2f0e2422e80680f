using Stencil.Factory.Internal;
using Stencil.Hypervisor;

namespace Stencil.Factory.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class FingerprintTests
{
    private static readonly VmDescription s_description = new()
    {
        Cpus = new CpuTopology(1, 4),
        Memory = new MemoryLayout(256, 4096, 4),
        Kernel = new KernelBoot("/a/vmlinux", "/a/initrd", "console=ttyS0"),
        HotplugRootPorts = 2,
        SharedFolder = new SharedFolderDevice("stencil"),
        VmGenId = true,
        SerialConsole = true,
    };

    private static TemplateFingerprint.Inputs Inputs(VmDescription? d = null, string qemu = "7.2.22", string kernel = "k1", string? initrd = "i1") =>
        new(qemu, "q1", kernel, initrd, null, d ?? s_description);

    private static string Hash(TemplateFingerprint.Inputs inputs) => TemplateFingerprint.Hash(TemplateFingerprint.Text(inputs));

    [Fact]
    public void The_same_inputs_give_the_same_twenty_hex_digit_name()
    {
        var a = Hash(Inputs());
        Assert.Equal(a, Hash(Inputs()));
        Assert.Matches("^[0-9a-f]{20}$", a);
    }

    [Fact]
    public void Paths_do_not_count_only_contents_do()
    {
        var moved = s_description with { Kernel = new KernelBoot("/usr/share/stencil/vmlinux", "/usr/share/stencil/initrd", "console=ttyS0") };
        Assert.Equal(Hash(Inputs()), Hash(Inputs(moved)));
        Assert.DoesNotContain("/a/vmlinux", TemplateFingerprint.Text(Inputs()));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("maxmem")]
    [InlineData("cpus")]
    [InlineData("cmdline")]
    [InlineData("machine")]
    [InlineData("accelerator")]
    [InlineData("rootports")]
    [InlineData("vmgenid")]
    [InlineData("share")]
    [InlineData("kernel")]
    [InlineData("initrd")]
    [InlineData("qemu")]
    public void Every_input_that_must_match_changes_the_fingerprint(string what)
    {
        var d = s_description;
        var inputs = what switch
        {
            "memory" => Inputs(d with { Memory = d.Memory with { SizeMiB = 512 } }),
            "maxmem" => Inputs(d with { Memory = d.Memory with { MaxMiB = 8192 } }),
            "cpus" => Inputs(d with { Cpus = new CpuTopology(1, 8) }),
            "cmdline" => Inputs(d with { Kernel = d.Kernel! with { CommandLine = "console=ttyS0 quiet" } }),
            "machine" => Inputs(d with { Machine = "pc", HotplugRootPorts = 0 }),
            "accelerator" => Inputs(d with { Accelerator = Accelerator.Kvm }),
            "rootports" => Inputs(d with { HotplugRootPorts = 3 }),
            "vmgenid" => Inputs(d with { VmGenId = false }),
            "share" => Inputs(d with { SharedFolder = null }),
            "kernel" => Inputs(kernel: "k2"),
            "initrd" => Inputs(initrd: "i2"),
            "qemu" => Inputs(qemu: "8.0.0"),
            _ => throw new ArgumentException(what),
        };
        Assert.NotEqual(Hash(Inputs()), Hash(inputs));
    }

    [Fact]
    public void The_text_names_each_input()
    {
        var text = TemplateFingerprint.Text(Inputs());
        Assert.StartsWith($"stencil-template-format {TemplateFingerprint.FormatVersion}\nqemu 7.2.22 q1\nkernel k1\ninitrd i1\nfirmware default\nqemu-command-line\n", text);
        Assert.Contains("-kernel\n/<kernel>\n-initrd\n/<initrd>", text);
        Assert.Contains("share=on", text);
    }

    [Fact]
    public void Differences_name_each_line_that_differs_then_how_many_more()
    {
        var before = TemplateFingerprint.Text(Inputs(qemu: "7.2.22", kernel: "k1"));
        var here = TemplateFingerprint.Text(Inputs(qemu: "8.0.0", kernel: "k2"));
        var text = TemplateFingerprint.Differences(before, here);
        Assert.Contains("\"qemu 7.2.22 q1\", here \"qemu 8.0.0 q1\"", text);
        Assert.Contains("\"kernel k1\", here \"kernel k2\"", text);
        Assert.Equal("\"a\", here \"x\"; \"b\", here \"y\"; \"c\", here \"z\"; and 1 more", TemplateFingerprint.Differences("a\nb\nc\nd", "x\ny\nz\nw"));
        Assert.Equal("\"(nothing)\", here \"extra\"", TemplateFingerprint.Differences("a", "a\nextra"));
        Assert.Equal("the texts are the same (another fingerprint format?)", TemplateFingerprint.Differences("a", "a"));
    }
}
