namespace Stencil.Agent.Client;

/// <param name="ExitCode">128 + the signal number when a signal killed the process (SIGKILL: 137).</param>
public sealed record ProcessExit(int ExitCode, DateTimeOffset ExitedAt);
