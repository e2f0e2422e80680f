using Stencil.Agent.Logging;

namespace Stencil.Agent.Tests.Unit.Fakes;

/// <summary>Keeps every line, with its level.</summary>
internal sealed class FakeLog : IAgentLog
{
    private readonly object _lock = new();
    private readonly List<string> _lines = [];

    internal IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lock)
                return [.. _lines];
        }
    }

    public void Debug(string message) => Add("debug", message);

    public void Info(string message) => Add("info", message);

    public void Warn(string message) => Add("warn", message);

    public void Error(string message) => Add("error", message);

    private void Add(string level, string message)
    {
        lock (_lock)
            _lines.Add($"{level}: {message}");
    }
}
