namespace Stencil;

/// <summary>Discards everything (tests, tools that print their own output).</summary>
public sealed class NullLog : ILog
{
    public static NullLog Instance { get; } = new();

    public bool IsEnabled(LogLevel level) => false;

    public void Write(LogLevel level, string message, IReadOnlyList<KeyValuePair<string, string>>? fields = null)
    {
    }
}
