using System.Runtime.InteropServices;

namespace Stencil.Ttrpc.Internal;

internal static partial class Interop
{
    /// <summary>geteuid(2): cannot fail.</summary>
    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint GetEffectiveUserId();
}
