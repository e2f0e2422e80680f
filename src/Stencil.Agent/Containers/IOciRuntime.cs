using Stencil.Agent.Processes;

namespace Stencil.Agent.Containers;

/// <summary>
/// An OCI runtime's CLI as <see cref="ContainerManager"/> calls it: the seam between the manager's
/// bookkeeping and crun or runc (<see cref="OciRuntime"/>), so tests can see each command line and
/// make any of them fail.
/// </summary>
internal interface IOciRuntime
{
    /// <summary>"crun" or "runc": what oci_runtime names and GetGuestDetails lists.</summary>
    string Name { get; }

    /// <summary>
    /// Runs one runtime command; a non-zero exit becomes a StencilException with the runtime's own
    /// message. stdio: the fds to pass through (create and exec without a terminal), or null.
    /// </summary>
    Task<OciResult> RunAsync(string what, Func<OciCommandLine, IReadOnlyList<string>> command, string logDir,
        ChildStdio? stdio, CancellationToken cancellationToken);

    /// <summary>
    /// Starts a created container without running the runtime's binary, where the runtime's `start`
    /// is only a write to the container's exec FIFO; false when that is not possible here (then
    /// `start` runs as usual).
    /// </summary>
    bool TryStartDirectly(string id);
}
