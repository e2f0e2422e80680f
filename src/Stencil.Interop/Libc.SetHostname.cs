using System.Text;
using Tmds.Linux;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>sethostname(2) (the length is given, no NUL).</summary>
    internal static int SetHostname(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        fixed (byte* p = bytes)
            return LibC.sethostname(p, bytes.Length);
    }
}
