namespace Stencil.Guest.Tests;

[Trait("Category", "Unit")]
public sealed class QemuCommandLineTests
{
    [Fact]
    public void TcgBootLine()
    {
        var line = string.Join(' ', QemuCommandLine.Build("/g/vmlinux", "/g/initrd", "console=ttyS0 quiet", kvm: false));

        Assert.Equal(
            "-machine q35 -accel tcg -smp 1 -m 256M -nodefaults -nographic -no-reboot -serial stdio " +
            "-kernel /g/vmlinux -initrd /g/initrd -append console=ttyS0 quiet",
            line);
    }

    [Fact]
    public void KvmWhenAvailable() =>
        Assert.Contains("kvm", QemuCommandLine.Build("k", "i", "", kvm: true));
}
