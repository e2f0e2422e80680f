namespace Stencil.Factory;

/// <summary>How a <see cref="FactoryVm"/> came to be.</summary>
public enum VmOrigin
{
    /// <summary>Booted the kernel (templates off, or no usable template).</summary>
    ColdBoot,

    /// <summary>Restored from the template when asked for.</summary>
    TemplateClone,

    /// <summary>A clone restored ahead of time and kept paused in the pool.</summary>
    Pool,

    /// <summary>A clone restored from a pod's checkpoint (its memory pages and device state).</summary>
    Checkpoint,
}
