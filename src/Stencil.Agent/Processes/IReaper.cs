namespace Stencil.Agent.Processes;

/// <summary>Where exits come from (<see cref="Reaper"/>, the agent's one waitpid loop).</summary>
internal interface IReaper
{
    /// <summary>Completes when <paramref name="pid"/> (a child or an orphan reparented to the agent) exits.</summary>
    Task<ExitStatus> WaitAsync(int pid);
}
