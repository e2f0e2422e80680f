using System.Collections.Concurrent;

namespace Stencil.Factory.Tests.Support;

/// <summary>An ILog that keeps every line, so tests can check what the factory said (and print it).</summary>
public sealed class TestLog : ILog
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public bool IsEnabled(LogLevel level) => true;

    public void Write(LogLevel level, string message, IReadOnlyList<KeyValuePair<string, string>>? fields = null) =>
        _lines.Enqueue($"{level.ToString().ToLowerInvariant()}: {message}");

    public string Text => string.Join('\n', _lines);
}
