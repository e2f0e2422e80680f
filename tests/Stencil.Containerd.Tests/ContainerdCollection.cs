namespace Stencil.Containerd.Tests;

/// <summary>One containerd at a time: the machine has two cores and containerd shares /run/containerd.</summary>
[CollectionDefinition(nameof(ContainerdCollection), DisableParallelization = true)]
public sealed class ContainerdCollection;
