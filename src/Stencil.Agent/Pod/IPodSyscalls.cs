namespace Stencil.Agent.Pod;

/// <summary>
/// What the sandbox asks of the guest when it stands in for a pause container: the namespace
/// holder's start and end, and the pod's network sysctls. <see cref="PodSyscalls"/> is the real one;
/// unit tests give a fake, so nothing of theirs reaches the test machine's kernel.
/// </summary>
internal interface IPodSyscalls
{
    /// <summary>Makes a holder ahead of time (in a template or a pooled clone) for <see cref="StartHolderAsync"/> to take; never throws.</summary>
    Task PrepareHolderAsync();

    /// <summary>Starts the holder of new IPC, UTS and PID namespaces (or configures the prepared one); returns its pid (in the agent's namespace).</summary>
    Task<int> StartHolderAsync(string hostname, IReadOnlyList<Sysctl> ipcSysctls);

    /// <summary>Kills the holder (and so every process left in its PID namespace) and waits until it is reaped.</summary>
    Task StopHolderAsync(int pid);

    /// <summary>Writes a /proc/sys file of the guest's own namespaces; fails with IOException or UnauthorizedAccessException.</summary>
    Task WriteSysctlAsync(string path, string value, CancellationToken cancellationToken);
}
