using Stencil.Hypervisor.Tests.Support;

namespace Stencil.Hypervisor.Tests;

[Collection(QemuCollection.Name)]
public sealed class HostProbeTests
{
    [Fact]
    public async Task Real_host_reports_qemu_9p_and_kvm_as_the_os_sees_them()
    {
        QemuPrerequisite.Require();
        var capabilities = await new HostProbe().ProbeAsync();

        Assert.Null(capabilities.QemuProblem);
        Assert.NotNull(capabilities.QemuPath);
        Assert.Matches(@"^\d+\.\d+", capabilities.QemuVersion!);
        Assert.StartsWith("QEMU emulator version", capabilities.QemuVersionLine);
        Assert.True(capabilities.Supports9p, "Debian's qemu-system-x86 has virtio-9p-pci");

        // Compare against a direct open(2), not against an assumption about this machine.
        bool kvmOpens;
        try
        {
            using var kvm = File.OpenHandle("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
            kvmOpens = true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            kvmOpens = false;
        }
        Assert.Equal(kvmOpens, capabilities.KvmOpens);
        var pvmOnly = Directory.Exists("/sys/module/kvm_pvm")
            && !Directory.Exists("/sys/module/kvm_intel") && !Directory.Exists("/sys/module/kvm_amd");
        Assert.Equal(kvmOpens && !pvmOnly, capabilities.KvmUsable);
        Assert.Equal(capabilities.KvmUsable ? Accelerator.Kvm : Accelerator.Tcg, capabilities.PreferredAccelerator);
        Assert.Equal(File.Exists("/dev/vhost-vsock"), capabilities.VhostVsock);
    }

    [Fact]
    public async Task Missing_pieces_are_reported_with_a_reason()
    {
        var mounts = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(mounts, "tmpfs /run tmpfs rw 0 0\n");
            var capabilities = await new HostProbe("stencil-no-such-qemu", "/nonexistent/kvm", "/nonexistent/vsock", mounts).ProbeAsync();
            Assert.Null(capabilities.QemuPath);
            Assert.Contains("stencil-no-such-qemu not found", capabilities.QemuProblem);
            Assert.False(capabilities.KvmOpens);
            Assert.False(capabilities.KvmUsable);
            Assert.Contains("/nonexistent/kvm", capabilities.KvmProblem);
            Assert.False(capabilities.VhostVsock);
            Assert.Equal(Accelerator.Tcg, capabilities.PreferredAccelerator);
            Assert.Equal(["/run"], capabilities.TmpfsMounts);
        }
        finally
        {
            File.Delete(mounts);
        }
    }
}
