using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Runtime.Pod;

/// <summary>The exit of a child the shim started with posix_spawn: waitpid on that pid only, on a thread
/// of its own (nothing else in the shim reaps it). The result is the raw wait status, -1 if waitpid failed.</summary>
internal static class ChildExit
{
    public static Task<int> WaitAsync(int pid) => Task.Factory.StartNew(() =>
    {
        int rc, status;
        while ((rc = Libc.WaitPid(pid, out status, 0)) < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == LibC.EINTR)
        {
        }
        return rc < 0 ? -1 : status;
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>"exited with status N" or "was killed by signal N".</summary>
    public static string Describe(int status) =>
        (status & 0x7F) == 0 ? $"exited with status {(status >> 8) & 0xFF}" : $"was killed by signal {status & 0x7F}";
}
