using Tmds.Linux;

namespace Stencil.Interop;

internal static partial class Libc
{
    /// <summary>geteuid(2): cannot fail.</summary>
    internal static uint GetEffectiveUserId() => LibC.geteuid();
}
