using System.Text;
using Stencil.Interop;

namespace Stencil.Factory.Internal;

/// <summary>
/// The last lines of a guest console log, for error messages. The guest writes the log (through QEMU)
/// and can make it as long as it likes: only its last <see cref="TailBytes"/> are read.
/// </summary>
internal static class ConsoleTail
{
    internal const int TailBytes = 16 * 1024;

    public static string Read(string? path, int lines = 8)
    {
        if (path is null)
            return "(no console log)";
        try
        {
            using var folder = ConfinedDirectory.Open(Path.GetDirectoryName(path)!);
            var tail = folder.ReadFile(Path.GetFileName(path), TailBytes, tail: true);
            var text = Encoding.UTF8.GetString(tail.Bytes).Replace("\r", "", StringComparison.Ordinal).TrimEnd();
            if (text.Length == 0)
                return "(empty console log)";
            return string.Join(" | ", text.Split('\n').TakeLast(lines).Select(l => l.Trim()).Where(l => l.Length > 0));
        }
        catch (Exception ex) when (ex is StencilException or IOException or UnauthorizedAccessException)
        {
            return "(no console log)";
        }
    }
}
