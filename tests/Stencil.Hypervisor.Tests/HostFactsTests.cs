using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor.Tests;

[Trait("Category", "Unit")]
public sealed class HostFactsTests
{
    [Fact]
    public void Qemu_version_line()
    {
        Assert.Equal("7.2.22", HostFacts.ParseQemuVersion("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022"));
        Assert.Equal("8.2", HostFacts.ParseQemuVersion("QEMU emulator version 8.2"));
        Assert.Null(HostFacts.ParseQemuVersion("bash: qemu: command not found"));
        Assert.Equal("7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)", HostProbe.QemuVersionLine("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022"));
        Assert.Null(HostProbe.QemuVersionLine("bash: qemu: command not found"));
    }

    [Fact]
    public void Tmpfs_mounts_with_escaped_spaces()
    {
        var mounts = "proc /proc proc rw 0 0\ntmpfs /dev/shm tmpfs rw,nosuid 0 0\n/dev/vda / ext4 rw 0 0\ntmpfs /run/my\\040dir tmpfs rw 0 0\n";
        Assert.Equal(["/dev/shm", "/run/my dir"], HostFacts.ParseTmpfsMounts(mounts));
    }

    [Fact]
    public void Pvm_alone_is_not_usable_kvm()
    {
        Assert.Contains("kvm_pvm", HostFacts.KvmModuleProblem(["kvm", "kvm_pvm"]));
        Assert.Null(HostFacts.KvmModuleProblem(["kvm", "kvm_intel"]));
        Assert.Null(HostFacts.KvmModuleProblem(["kvm", "kvm_amd", "kvm_pvm"]));
        Assert.Null(HostFacts.KvmModuleProblem(["kvm"]));
    }
}
