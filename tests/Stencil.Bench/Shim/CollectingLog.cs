namespace Stencil.Bench.Shim;

/// <summary>The log of the in-process VM factory that builds the template: keeps warnings and errors to print, drops the rest.</summary>
internal sealed class CollectingLog : ILog
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
                return [.. _lines];
        }
    }

    public bool IsEnabled(LogLevel level) => level >= LogLevel.Warning;

    public void Write(LogLevel level, string message, IReadOnlyList<KeyValuePair<string, string>>? fields = null)
    {
        if (!IsEnabled(level))
            return;
        lock (_lines)
            _lines.Add($"{level.ToString().ToLowerInvariant()}: {message}");
    }
}
