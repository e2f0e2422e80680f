namespace Stencil.Cli;

/// <summary>The factory's log lines on stderr ("stencil: info: building template ..."); debug lines are dropped.</summary>
internal sealed class ConsoleLog(TextWriter writer) : ILog
{
    private readonly Lock _gate = new();

    public bool IsEnabled(LogLevel level) => level >= LogLevel.Info;

    public void Write(LogLevel level, string message, IReadOnlyList<KeyValuePair<string, string>>? fields = null)
    {
        if (!IsEnabled(level))
            return;
        lock (_gate)
            writer.WriteLine($"stencil: {level.ToString().ToLowerInvariant()}: {message}");
    }
}
