namespace Stencil.Factory.Internal;

/// <summary>The last lines of a guest console log, for error messages.</summary>
internal static class ConsoleTail
{
    public static string Read(string? path, int lines = 8)
    {
        if (path is null)
            return "(no console log)";
        try
        {
            var text = File.ReadAllText(path).Replace("\r", "", StringComparison.Ordinal).TrimEnd();
            if (text.Length == 0)
                return "(empty console log)";
            return string.Join(" | ", text.Split('\n').TakeLast(lines).Select(l => l.Trim()).Where(l => l.Length > 0));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "(no console log)";
        }
    }
}
