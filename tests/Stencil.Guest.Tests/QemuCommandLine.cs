namespace Stencil.Guest.Tests;

/// <summary>
/// The smallest QEMU command line that boots the guest image: the test's own launcher, so these
/// tests do not depend on the hypervisor library.
/// </summary>
internal static class QemuCommandLine
{
    /// <summary>
    /// q35 with QEMU's default firmware (SeaBIOS), one vCPU, 256 MiB, no default devices, the
    /// serial console on stdout. -no-reboot turns a guest reboot or panic (panic=-1) into an exit,
    /// so a broken image ends the process instead of looping.
    /// </summary>
    public static IReadOnlyList<string> Build(string kernel, string initrd, string kernelArgs, bool kvm) =>
    [
        "-machine", "q35",
        "-accel", kvm ? "kvm" : "tcg",
        "-smp", "1",
        "-m", "256M",
        "-nodefaults",
        "-nographic",
        "-no-reboot",
        "-serial", "stdio",
        "-kernel", kernel,
        "-initrd", initrd,
        "-append", kernelArgs,
    ];
}
