using System.Text;

namespace Stencil.Interop;

/// <summary>NUL-terminated UTF-8 for the char* parameters of Tmds.LibC's declarations (they take byte*).</summary>
internal static class Utf8
{
    /// <summary>Pin the result with fixed; null stays null (a NULL pointer).</summary>
    internal static byte[]? Z(string? value)
    {
        if (value is null)
            return null;
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return bytes;
    }
}
