using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor.Tests;

/// <summary>Why QEMU exited, read from its own words (QEMU 7.2's messages, as captured on this project's hosts).</summary>
[Trait("Category", "Unit")]
public sealed class QemuExitClassifierTests
{
    private const string MemoryFile = "/run/stencil/template/0123456789abcdef0123/memory";

    [Theory]
    [InlineData("qemu-system-x86_64: -object memory-backend-file,id=mem0,size=256M,share=off,mem-path=/run/stencil/template/0123456789abcdef0123/memory: backing store size 0x8000000 does not match 'size' option 0x10000000",
        QemuExitReason.MemorySizeMismatch)]
    [InlineData("qemu-system-x86_64: Length mismatch: pc.ram: 0x4000000 in != 0x8000000: Invalid argument\nqemu-system-x86_64: load of migration failed: Invalid argument",
        QemuExitReason.MemorySizeMismatch)]
    [InlineData("qemu-system-x86_64: -object memory-backend-file,id=mem0,size=256M,share=off,mem-path=/x/memory: can't open backing store /x/memory for guest RAM: Permission denied",
        QemuExitReason.MemoryFileUnusable)]
    [InlineData("qemu-system-x86_64: -object memory-backend-file,id=mem0,size=256M,share=off,mem-path=/run/stencil/template/0123456789abcdef0123/memory: Bad address",
        QemuExitReason.MemoryFileUnusable)]
    [InlineData("qemu-system-x86_64: Machine type received is 'pc-q35-7.2' and local is 'pc-i440fx-7.2'\nqemu-system-x86_64: load of migration failed: Invalid argument",
        QemuExitReason.MachineTypeMismatch)]
    [InlineData("qemu-system-x86_64: Unknown savevm section or instance 'virtio-rng' 0. Make sure that your current VM setup matches your saved VM setup, including any hotplugged devices\nqemu-system-x86_64: load of migration failed: Invalid argument",
        QemuExitReason.UnknownDeviceSection)]
    [InlineData("qemu-system-x86_64: Capability x-ignore-shared is off, but received capability is on\nqemu-system-x86_64: load of migration failed: Invalid argument",
        QemuExitReason.CapabilityMismatch)]
    [InlineData("qemu-system-x86_64: Not a migration stream\nqemu-system-x86_64: load of migration failed: Invalid argument",
        QemuExitReason.StateLoadFailed)]
    [InlineData("qemu-system-x86_64: load of migration failed: Input/output error", QemuExitReason.StateLoadFailed)]
    [InlineData("qemu-system-x86_64: -cpu no-such-cpu: unable to find CPU model 'no-such-cpu'", QemuExitReason.Other)]
    [InlineData("", QemuExitReason.Other)]
    public void Each_way_a_clone_breaks_is_named_from_qemus_output(string output, QemuExitReason expected) =>
        Assert.Equal(expected, QemuExitClassifier.Classify(output, MemoryFile));

    [Fact]
    public void Naming_the_memory_file_counts_only_for_the_vms_own_file()
    {
        const string output = "qemu-system-x86_64: -object memory-backend-file,id=mem0,mem-path=/elsewhere/memory: Bad address";
        Assert.Equal(QemuExitReason.MemoryFileUnusable, QemuExitClassifier.Classify(output, "/elsewhere/memory"));
        Assert.Equal(QemuExitReason.Other, QemuExitClassifier.Classify(output, MemoryFile));
        Assert.Equal(QemuExitReason.Other, QemuExitClassifier.Classify(output, null));
    }

    [Fact]
    public void The_memory_file_wins_over_a_later_load_error()
    {
        // At start nothing but the memory file can be wrong; what QEMU says after is a consequence.
        const string output = "qemu-system-x86_64: backing store size 0x8000000 does not match 'size' option 0x10000000\nqemu-system-x86_64: load of migration failed: Invalid argument";
        Assert.Equal(QemuExitReason.MemorySizeMismatch, QemuExitClassifier.Classify(output, null));
    }
}
