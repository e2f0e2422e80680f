using System.Diagnostics;
using System.Text.Json.Nodes;
using Stencil.TestSupport;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// The end of a pod is off the caller's path (Delete kills the VM in the background) yet leaves nothing
/// behind, and every pod start is logged and recorded with its phases.
/// </summary>
[Collection(StencilCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TeardownAndTimelineTests(StencilContainerd s)
{
    private const string R = StencilContainerd.Runtime;
    private const string I = StencilContainerd.Image;

    [Fact]
    public async Task Ctr_run_rm_leaves_no_qemu_shim_mount_socket_or_pod_state_behind()
    {
        var clock = Stopwatch.StartNew();
        var r = await s.Ctr("run", "--rm", "--runtime", R, I, "e2e-teardown", "sh", "-c", "echo data > /tmp/f; cat /tmp/f");
        Assert.True(r.ExitCode == 0, $"ctr run: {r.Stderr}\n{s.Containerd.ReadLog()}");
        Assert.Equal("data", r.Stdout.Trim());
        await Eventually.NothingLeftAsync(s);
        await Eventually.UntilAsync(() => Task.FromResult(!Directory.Exists(s.SocketDir) || Directory.GetFileSystemEntries(s.SocketDir).Length == 0),
            "no shim socket left", () => string.Join("\n", Directory.GetFileSystemEntries(s.SocketDir)));
        // The teardown ran to its end in the shim (it logs once QEMU is gone), not cut off by the shim's exit.
        Assert.Contains("pod e2e-teardown: VM stopped (no containers left)", s.Containerd.ReadLog());
        Assert.True(clock.Elapsed < StencilContainerd.CtrTimeout);
    }

    [Fact]
    public async Task A_pod_start_is_logged_as_one_line_and_recorded_for_stencil_starts()
    {
        var r = await s.Ctr("run", "--rm", "--runtime", R, I, "e2e-timeline", "true");
        Assert.True(r.ExitCode == 0, $"ctr run: {r.Stderr}\n{s.Containerd.ReadLog()}");

        var line = s.Containerd.ReadLog().Split('\n').Single(l => l.Contains("msg=\"pod e2e-timeline started: ", StringComparison.Ordinal));
        Assert.Matches(@"pod e2e-timeline started: shim \d+ ms, vm (template|pool|cold boot) \d+ ms, storage \d+ ms, guest create \d+ ms, start \d+ ms, total \d+ ms", line);

        var starts = Path.Combine(s.StateDir, "starts");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(starts));
        var record = Assert.Single(Directory.GetFiles(starts, "*-default-e2e-timeline.start"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(record));

        var cli = await ChildProcess.RunAsync(ShimBinaries.Cli, ["--config", s.ConfigPath, "starts", "--json"], TimeSpan.FromSeconds(30));
        Assert.True(cli.ExitCode == 0, cli.Stderr);
        var start = JsonNode.Parse(cli.Stdout)!.AsArray().Single(n => (string?)n!["pod"] == "e2e-timeline")!;
        Assert.Equal("default", (string?)start["namespace"]);
        Assert.Equal("template", (string?)start["vm"]);
        var phases = new[] { "shim_ms", "vm_ms", "guest_create_ms", "start_ms" }.Select(k => (double)start[k]!).ToList();
        Assert.All(phases, ms => Assert.True(ms > 0));
        Assert.True((double)start["total_ms"]! >= phases.Sum(), cli.Stdout);
        await Eventually.NothingLeftAsync(s);
    }
}
