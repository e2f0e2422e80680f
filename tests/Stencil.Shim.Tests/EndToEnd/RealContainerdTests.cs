using System.Text.RegularExpressions;
using Stencil.TestSupport;

namespace Stencil.Shim.Tests.EndToEnd;

/// <summary>
/// Debian's containerd 1.6 (private instance) finds containerd-shim-stencil-v2 on its PATH (build/bin)
/// and drives it with `ctr`, the same client -> task -> shim path nerdctl takes. The shim serves the
/// simulated runtime (the test host shim, build/test-bin): no command runs, so there is no output to check,
/// but create/start/wait/exec/pause/metrics/kill/delete round trips and a clean exit are real.
/// </summary>
public sealed class RealContainerdTests
{
    private const string Image = BusyboxImage.Reference;
    private const string Runtime = "io.containerd.stencil.v2";
    private static readonly TimeSpan s_ctrTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Ctr_runs_tasks_through_the_shim_and_nothing_is_left_running()
    {
        var shim = ShimBinaries.RequireTestHostShim();
        using var dir = new TempDir();
        var socketDir = dir.Combine("s");
        var config = new StencilConfigFile { StateDir = dir.Combine("state"), ShimSocketDir = socketDir }.WriteTo(dir.Combine("stencil.toml"));

        await using var containerd = await PrivateContainerd.StartAsync(new PrivateContainerdOptions
        {
            Environment = new Dictionary<string, string>
            {
                ["PATH"] = ShimBinaries.PathWithFolderOf(shim),
                // ctr passes no runtime options, so the shim finds its configuration here.
                ["STENCIL_CONFIG"] = config,
            },
        });
        async Task<CommandResult> Ctr(params string[] args) => await containerd.CtrAsync("default", args, s_ctrTimeout);

        await BusyboxImage.BuildAndImportAsync(containerd, "default", dir.Path, s_ctrTimeout);
        await using var events = containerd.StartCtr("default", "events");

        // A process that exits by itself, attached: create, start, wait, delete, shutdown.
        var ok = await Ctr("run", "--rm", "--runtime", Runtime, Image, "st-true", "true");
        Assert.True(ok.ExitCode == 0, $"ctr run true: {ok.Stderr}\n{containerd.ReadLog()}");
        var failed = await Ctr("run", "--rm", "--runtime", Runtime, Image, "st-false", "false");
        Assert.Equal(1, failed.ExitCode);

        // A long-running one, detached, then everything else ctr can do to a task.
        (await Ctr("run", "-d", "--runtime", Runtime, Image, "st-sleep", "sleep", "1000")).EnsureSuccess("ctr run -d");
        Assert.Matches(@"st-sleep\s+\d+\s+RUNNING", (await Ctr("tasks", "ls")).EnsureSuccess("ctr tasks ls"));
        var metrics = (await Ctr("tasks", "metrics", "st-sleep")).EnsureSuccess("ctr tasks metrics");
        Assert.Contains("memory.usage_in_bytes", metrics);
        (await Ctr("tasks", "pause", "st-sleep")).EnsureSuccess("ctr tasks pause");
        Assert.Matches(@"st-sleep\s+\d+\s+PAUSED", (await Ctr("tasks", "ls")).EnsureSuccess("ctr tasks ls"));
        (await Ctr("tasks", "resume", "st-sleep")).EnsureSuccess("ctr tasks resume");
        var exec = await Ctr("tasks", "exec", "--exec-id", "e1", "st-sleep", "true");
        Assert.True(exec.ExitCode == 0, $"ctr tasks exec: {exec.Stderr}");
        (await Ctr("tasks", "kill", "--signal", "SIGKILL", "st-sleep")).EnsureSuccess("ctr tasks kill");
        await WaitUntilAsync(async () => Regex.IsMatch((await Ctr("tasks", "ls")).Stdout, @"st-sleep\s+\d+\s+STOPPED"), "st-sleep STOPPED");
        (await Ctr("tasks", "rm", "st-sleep")).EnsureSuccess("ctr tasks rm");
        (await Ctr("containers", "rm", "st-sleep")).EnsureSuccess("ctr containers rm");

        // Events reached containerd through TTRPC_ADDRESS, with their topics.
        foreach (var topic in new[] { "/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started", "/tasks/paused", "/tasks/resumed", "/tasks/exit", "/tasks/delete" })
            await events.WaitForLineAsync(l => l.Contains(topic, StringComparison.Ordinal), TimeSpan.FromSeconds(10));

        // The shim's log reached containerd's log through the bundle's FIFO.
        Assert.Contains("running a SIMULATED pod runtime", containerd.ReadLog());

        // Every daemon exited after its Shutdown and removed its socket.
        await WaitUntilAsync(() => Task.FromResult(ShimDaemons(socketDir).Count == 0), "no shim daemon left");
        Assert.Empty(Directory.Exists(socketDir) ? Directory.EnumerateFileSystemEntries(socketDir) : []);
    }

    private static IReadOnlyList<int> ShimDaemons(string socketDir) =>
        Leftovers.ProcessesMentioning(socketDir + "/").Select(p => p.Pid).Where(Leftovers.IsRunning).ToList();

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for: {what}");
            await Task.Delay(100);
        }
    }
}
