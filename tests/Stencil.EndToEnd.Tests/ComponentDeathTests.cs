using Stencil.TestSupport;
using Xunit.Abstractions;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// A pod's VM ends under a running task, each way it can: QEMU killed with SIGKILL on the host, the agent
/// killed inside the guest (a privileged container's sysrq "i": SIGKILL to every process but init, which
/// then powers the VM off), the guest kernel panicking (sysrq "c"; panic=-1 and -no-reboot end QEMU).
/// Each time containerd is told the task exited within 10 s (the exit is reported from QEMU's end, not
/// polled), the pod's shim names the cause in its log, and after `ctr task rm` nothing is left.
/// (The shim killed: ShimKilledTests; containerd restarted: ContainerdRestartTests; the factory daemon
/// killed: FactoryDaemonTests; a corrupt template: the factory's TemplateLifecycleTests.)
/// </summary>
[Collection(StencilCollection.Name)]
public sealed class ComponentDeathTests(StencilContainerd s, ITestOutputHelper output)
{
    private static readonly TimeSpan s_reportedWithin = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("qemu-sigkill")]
    [InlineData("agent-killed")]
    [InlineData("kernel-panic")]
    public async Task When_the_VM_ends_under_a_running_task_containerd_sees_it_exit_within_10_s_and_nothing_is_left(string death)
    {
        var id = "e2e-death-" + death;
        (await s.Ctr("run", "-d", "--privileged", "--runtime", StencilContainerd.Runtime, StencilContainerd.Image, id, "sleep", "3600"))
            .EnsureSuccess("ctr run -d");
        try
        {
            await Eventually.UntilAsync(async () => Regex.IsMatch(await TaskList(), $@"{id}\s+\d+\s+RUNNING"), $"{id} running");
            var qemu = Leftovers.QemuMentioning(s.StateDir).Single(p => p.CommandLine.Contains(id, StringComparison.Ordinal));

            var clock = Stopwatch.StartNew();
            switch (death)
            {
                case "qemu-sigkill":
                    Process.GetProcessById(qemu.Pid).Kill();
                    break;
                case "agent-killed":
                    // The exec itself dies with everything else in the guest: its result does not matter.
                    _ = s.Ctr("task", "exec", "--exec-id", "sysrq", id, "sh", "-c", "echo i > /proc/sysrq-trigger");
                    break;
                case "kernel-panic":
                    _ = s.Ctr("task", "exec", "--exec-id", "sysrq", id, "sh", "-c", "echo c > /proc/sysrq-trigger");
                    break;
            }
            await Eventually.UntilAsync(async () => Regex.IsMatch(await TaskList(), $@"{id}\s+\d+\s+STOPPED"), $"{id} reported stopped",
                () => s.Containerd.ReadLog());
            var reported = clock.Elapsed;
            output.WriteLine($"{death}: containerd saw the task stopped {reported.TotalSeconds:F2} s after it");
            Assert.True(reported < s_reportedWithin, $"{death}: the exit was reported after {reported.TotalSeconds:F1} s (at most {s_reportedWithin.TotalSeconds} s)");
            // The shim's log reaches containerd's through a FIFO that containerd copies on its own time: the line
            // may land a moment after the task is seen stopped.
            await Eventually.UntilAsync(() => Task.FromResult(s.Containerd.ReadLog().Contains($"pod {id}: the VM died", StringComparison.Ordinal)),
                $"{death}: \"the VM died\" in containerd's log",
                () => string.Join('\n', s.Containerd.ReadLog().Split('\n').Where(l => l.Contains(id, StringComparison.Ordinal)).TakeLast(20)));
        }
        finally
        {
            await s.Ctr("task", "rm", "-f", id);
            await s.Ctr("containers", "rm", id);
        }
        await Eventually.NothingLeftAsync(s);
    }

    private async Task<string> TaskList() => (await s.Ctr("task", "ls")).Stdout;
}
