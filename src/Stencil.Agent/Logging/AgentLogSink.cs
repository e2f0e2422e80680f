namespace Stencil.Agent.Logging;

/// <summary>The real <see cref="IAgentLog"/>: the static <see cref="AgentLog"/> (/dev/kmsg in the guest).</summary>
internal sealed class AgentLogSink : IAgentLog
{
    internal static AgentLogSink Instance { get; } = new();

    private AgentLogSink()
    {
    }

    public void Debug(string message) => AgentLog.Debug(message);

    public void Info(string message) => AgentLog.Info(message);

    public void Warn(string message) => AgentLog.Warn(message);

    public void Error(string message) => AgentLog.Error(message);
}
