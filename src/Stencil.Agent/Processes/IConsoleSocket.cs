namespace Stencil.Agent.Processes;

/// <summary>The --console-socket an OCI runtime sends a terminal's master to (<see cref="ConsoleSocket"/>).</summary>
internal interface IConsoleSocket : IDisposable
{
    string Path { get; }

    /// <summary>The pty master fd the runtime sent.</summary>
    Task<int> ReceiveMasterAsync(CancellationToken cancellationToken);
}
