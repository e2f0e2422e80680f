namespace Stencil.Guest.Tests;

internal static class Accelerator
{
    /// <summary>
    /// KVM when /dev/kvm opens for reading and writing and is backed by hardware virtualization
    /// (kvm_intel or kvm_amd); TCG (software emulation) otherwise. Opening /dev/kvm is not enough:
    /// machines of this project's kind run inside Firecracker with kvm_pvm, whose /dev/kvm opens
    /// but cannot run an ordinary guest kernel (QEMU hangs after the firmware, spinning in the host
    /// kernel).
    /// </summary>
    public static bool KvmAvailable()
    {
        if (!Directory.Exists("/sys/module/kvm_intel") && !Directory.Exists("/sys/module/kvm_amd"))
            return false;
        try
        {
            using var kvm = new FileStream("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
