namespace Stencil.Factory;

/// <summary>What <see cref="VmFactory.DestroyAsync"/> removed.</summary>
/// <param name="TemplatesRemoved">Finished templates removed (running clones keep running on their own mapping).</param>
/// <param name="SetAsideRemoved">Set-aside templates removed.</param>
/// <param name="Unmounted">The tmpfs Stencil had mounted was detached.</param>
public sealed record FactoryDestroyResult(int TemplatesRemoved, int SetAsideRemoved, bool Unmounted);
