namespace Stencil.Agent.Logging;

/// <summary>The agent's log as a value to pass in, so a test can read what a class logged (<see cref="AgentLogSink"/> writes to <see cref="AgentLog"/>).</summary>
internal interface IAgentLog
{
    /// <summary>Written only when debugging is on (stencil.debug).</summary>
    void Debug(string message);

    void Info(string message);

    void Warn(string message);

    void Error(string message);
}
