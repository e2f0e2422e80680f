namespace Stencil.Hypervisor.Tests.Support;

/// <summary>Tests that start QEMU run one at a time: the machine has 2 cores shared by everyone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QemuCollection
{
    public const string Name = "qemu";
}
