using System.Text.RegularExpressions;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// A shim daemon killed with SIGKILL (OOM killer, an operator's kill -9): containerd sees it disconnect
/// and runs the shim binary's `delete` for the task, which must not leave the pod's QEMU running.
/// </summary>
[Collection(StencilCollection.Name)]
public sealed class ShimKilledTests(StencilContainerd s)
{
    private const string Id = "e2e-shim-killed";

    [Fact]
    public async Task A_shim_killed_with_SIGKILL_leaves_no_QEMU_behind()
    {
        (await s.Ctr("run", "-d", "--runtime", StencilContainerd.Runtime, StencilContainerd.Image, Id, "sleep", "3600")).EnsureSuccess("ctr run -d");
        try
        {
            await Eventually.UntilAsync(async () => Regex.IsMatch(await TaskList(), $@"{Id}\s+\d+\s+RUNNING"), $"{Id} running");
            var shim = s.LeftoverProcesses().Single(p => p.Contains("containerd-shim-stencil-v2", StringComparison.Ordinal) && !p.Contains("qemu", StringComparison.Ordinal));
            Assert.Contains(s.LeftoverProcesses(), p => p.Contains("qemu-system", StringComparison.Ordinal));

            Assert.True(Kill(int.Parse(shim[..shim.IndexOf(':', StringComparison.Ordinal)]), 9) == 0, "kill -9 of the shim");

            await Eventually.UntilAsync(() => Task.FromResult(!s.LeftoverProcesses().Any(p => p.Contains("qemu-system", StringComparison.Ordinal))),
                "the pod's QEMU gone after its shim was killed", () => string.Join("\n", s.LeftoverProcesses()) + "\n" + s.Containerd.ReadLog());
        }
        finally
        {
            await s.Ctr("task", "rm", "-f", Id);
            await s.Ctr("containers", "rm", Id);
        }
        await Eventually.NothingLeftAsync(s);
    }

    private async Task<string> TaskList() => (await s.Ctr("task", "ls")).Stdout;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
