using Stencil.TestSupport;

namespace Stencil.Hypervisor.Tests.Support;

internal static class QemuPrerequisite
{
    /// <summary>Fails (never skips) when QEMU is missing, naming what provides it.</summary>
    public static void Require() =>
        Prerequisite.Executable(QemuProcess.DefaultBinary, "make deps (apt-get install qemu-system-x86)");
}
