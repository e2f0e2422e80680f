using System.Text.RegularExpressions;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// containerd restarted while a container runs in its VM: the shim daemon (setsid'd) lives on, the new
/// containerd reconnects to it through the bundle's `address` file, and the task stays fully usable;
/// its events reach the new containerd.
/// </summary>
[Collection(StencilCollection.Name)]
public sealed class ContainerdRestartTests(StencilContainerd s)
{
    private const string Id = "e2e-restart";

    [Fact]
    public async Task A_running_task_survives_a_containerd_restart_and_its_exit_is_still_reported()
    {
        (await s.Ctr("run", "-d", "--runtime", StencilContainerd.Runtime, StencilContainerd.Image, Id,
            "sh", "-c", "trap 'exit 7' TERM; while true; do sleep 1; done")).EnsureSuccess("ctr run -d");
        try
        {
            await Eventually.UntilAsync(async () => Running(await TaskList()), $"{Id} running");
            var shimsBefore = s.LeftoverProcesses().Where(p => !p.Contains("qemu", StringComparison.Ordinal)).ToList();

            var containerdBefore = s.Containerd.Pid;
            await s.Containerd.RestartAsync();
            Assert.NotEqual(containerdBefore, s.Containerd.Pid);

            Assert.True(Running(await TaskList()), $"after the restart: {await TaskList()}\n{s.Containerd.ReadLog()}");
            // The same daemon serves it: no new shim was started.
            Assert.Equal(shimsBefore, s.LeftoverProcesses().Where(p => !p.Contains("qemu", StringComparison.Ordinal)).ToList());

            // Subscribed before the exec: its exec-started event shows events flow to the new containerd.
            await using var events = s.Containerd.StartCtr("default", "events");
            var exec = await s.Ctr("task", "exec", "--exec-id", "after", Id, "sh", "-c", "echo exec-after-restart");
            Assert.True(exec.ExitCode == 0, exec.Stderr);
            Assert.Equal("exec-after-restart", exec.Stdout.Trim());
            await events.WaitForLineAsync(l => l.Contains("/tasks/exec-started", StringComparison.Ordinal) && l.Contains(Id, StringComparison.Ordinal), Eventually.Timeout);

            (await s.Ctr("task", "kill", "--signal", "SIGTERM", Id)).EnsureSuccess("ctr task kill");
            var exit = await events.WaitForLineAsync(
                l => l.Contains("/tasks/exit", StringComparison.Ordinal) && l.Contains($"\"id\":\"{Id}\"", StringComparison.Ordinal), Eventually.Timeout);
            Assert.Contains("\"exit_status\":7", exit);
            await Eventually.UntilAsync(async () => Regex.IsMatch(await TaskList(), $@"{Id}\s+\d+\s+STOPPED"), $"{Id} stopped");
        }
        finally
        {
            await s.Ctr("task", "rm", "-f", Id);
            await s.Ctr("containers", "rm", Id);
        }
        await Eventually.NothingLeftAsync(s);
    }

    private async Task<string> TaskList() => (await s.Ctr("task", "ls")).Stdout;

    private static bool Running(string taskList) => Regex.IsMatch(taskList, $@"{Id}\s+\d+\s+RUNNING");
}
