namespace Stencil.Agent.Processes;

/// <summary>
/// How a process ended, decoded from a wait(2) status. A process killed by a signal reports
/// 128 + the signal number as its exit code, the convention of shells and runc (SIGKILL: 137).
/// </summary>
internal readonly record struct ExitStatus(int Pid, int ExitCode, int Signal, DateTimeOffset ExitedAt)
{
    internal bool Signaled => Signal != 0;

    /// <summary>Decodes the status word of waitpid: WIFEXITED/WEXITSTATUS/WIFSIGNALED/WTERMSIG.</summary>
    internal static ExitStatus FromWaitStatus(int pid, int status, DateTimeOffset exitedAt)
    {
        var low = status & 0x7f;
        if (low == 0)
            return new ExitStatus(pid, (status >> 8) & 0xff, 0, exitedAt);
        // 0x7f in the low bits is "stopped" (WIFSTOPPED); we never ask for those (no WUNTRACED).
        if (low != 0x7f)
            return new ExitStatus(pid, 128 + low, low, exitedAt);
        throw new ArgumentOutOfRangeException(nameof(status), $"wait status 0x{status:x} is not an exit");
    }

    public override string ToString() =>
        Signaled ? $"pid {Pid} killed by signal {Signal} (exit code {ExitCode})" : $"pid {Pid} exited with code {ExitCode}";
}
