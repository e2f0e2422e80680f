using System.Globalization;
using Stencil.TestSupport;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// `ctr container checkpoint --task` and `ctr container restore --live` of a whole pod VM through containerd:
/// a pod without the 9p share (shared_fs = "none"), whose counting loop and tmpfs files go on after a restore.
/// </summary>
[Collection(StencilCollection.Name)]
public sealed class CheckpointTests(StencilContainerd s)
{
    private const string R = StencilContainerd.Runtime;
    private const string I = StencilContainerd.Image;

    private const string CountingLoop = "echo hello > /run/marker; i=0; while :; do i=$((i+1)); echo $i > /dev/shm/count; sleep 1; done";

    /// <summary>The fixture's configuration with the containers' root file systems on disks (no 9p share).</summary>
    private string DiskConfig(string name, string extraRuntime = "")
    {
        var text = File.ReadAllText(s.ConfigPath).Replace("[hypervisor]\n", "[hypervisor]\nshared_fs = \"none\"\n", StringComparison.Ordinal);
        if (extraRuntime.Length > 0)
            text = text.Replace("[runtime]\n", "[runtime]\n" + extraRuntime + "\n", StringComparison.Ordinal);
        var path = Path.Combine(s.Dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private int _execs;

    /// <summary>The loop's count, read by an exec (0 before the loop wrote it).</summary>
    private async Task<int> CountAsync(string id, string what)
    {
        var r = await s.Ctr("task", "exec", "--exec-id", $"{what}-{Interlocked.Increment(ref _execs)}", id, "sh", "-c", "cat /dev/shm/count 2>/dev/null || echo 0");
        Assert.True(r.ExitCode == 0, $"exec in {id}: {r.Stderr}\n{s.Containerd.ReadLog()}");
        return int.Parse(r.Stdout.Trim(), CultureInfo.InvariantCulture);
    }

    private Task RemoveAsync(string id) => RemoveAsync(args => s.Ctr(args), id);

    /// <summary>Kills the task, removes it once it has stopped, then the container.</summary>
    private static async Task RemoveAsync(Func<string[], Task<CommandResult>> ctr, string id)
    {
        await ctr(["task", "kill", "-s", "9", id]);
        await Eventually.UntilAsync(async () => !(await ctr(["task", "ls"])).Stdout.Split('\n').Any(l => l.StartsWith(id + " ", StringComparison.Ordinal))
                || (await ctr(["task", "rm", id])).ExitCode == 0,
            $"task {id} gone");
        (await ctr(["container", "rm", id])).EnsureSuccess($"ctr container rm {id}");
    }

    [Fact]
    [Trait("Category", "Smoke")]
    public async Task A_counting_loop_and_a_tmpfs_file_go_on_after_checkpoint_and_restore()
    {
        const string id = "e2e-cp";
        const string image = "stencil-e2e/checkpoint:1";
        var config = DiskConfig("checkpoint.toml");
        (await s.Ctr("run", "-d", "--runtime", R, "--runtime-config-path", config, I, id, "sh", "-c", CountingLoop)).EnsureSuccess("ctr run");
        await Eventually.UntilAsync(async () => await CountAsync(id, "c0") >= 3, "the loop counted to 3");

        var checkpoint = await s.Ctr("container", "checkpoint", "--task", id, image);
        Assert.True(checkpoint.ExitCode == 0, $"checkpoint: {checkpoint.Stderr}\n{s.Containerd.ReadLog()}");
        var atCheckpoint = await CountAsync(id, "c1");
        // The pod goes on after its checkpoint.
        await Eventually.UntilAsync(async () => await CountAsync(id, "c2") > atCheckpoint, "the loop goes on after the checkpoint");

        await RemoveAsync(id);
        var restore = await s.Ctr("container", "restore", "--live", id, image);
        Assert.True(restore.ExitCode == 0, $"restore: {restore.Stderr}\n{s.Containerd.ReadLog()}");
        var restored = await CountAsync(id, "r1");
        // From where it was when saved, not from zero (the loop is a few counts further at most).
        Assert.True(restored >= atCheckpoint, $"count {restored} after the restore, {atCheckpoint} at the checkpoint");
        await Eventually.UntilAsync(async () => await CountAsync(id, "r2") > restored, "the restored loop counts on");
        var marker = await s.Ctr("task", "exec", "--exec-id", "r3", id, "cat", "/run/marker");
        Assert.Equal("hello", marker.EnsureSuccess("cat /run/marker").Trim());

        await RemoveAsync(id);
        await s.Ctr("image", "rm", image);
        await Eventually.NothingLeftAsync(s);
    }

    /// <remarks>
    /// containerd 2.x's client sends --exit to any runtime (runc's CheckpointOptions); 1.6's and 1.7's send it
    /// only to runc's runtimes, so there the shim is never told and the task keeps running (not a smoke test).
    /// </remarks>
    [Fact]
    public async Task Task_checkpoint_with_exit_saves_and_stops_the_task()
    {
        const string id = "e2e-cp-exit";
        (await s.Ctr("run", "-d", "--runtime", R, "--runtime-config-path", DiskConfig("checkpoint-exit.toml"), I, id, "sh", "-c", CountingLoop)).EnsureSuccess("ctr run");
        await Eventually.UntilAsync(async () => await CountAsync(id, "x") >= 1, "the loop counted");
        var checkpoint = await s.Ctr("task", "checkpoint", "--exit", id);
        Assert.True(checkpoint.ExitCode == 0, $"checkpoint --exit: {checkpoint.Stderr}\n{s.Containerd.ReadLog()}");
        var image = checkpoint.Stdout.Trim();
        Assert.StartsWith("containerd.io/checkpoint/" + id, image, StringComparison.Ordinal);
        await Eventually.UntilAsync(async () => (await s.Ctr("task", "ls")).Stdout.Split('\n').Any(l => l.StartsWith(id + " ", StringComparison.Ordinal) && l.Contains("STOPPED", StringComparison.Ordinal)),
            "the task stopped after its checkpoint");
        await RemoveAsync(id);
        await s.Ctr("image", "rm", image);
        await Eventually.NothingLeftAsync(s);
    }

    /// <summary>
    /// Two nodes on one machine: containerd A and B with their own root, state and Stencil state folders (the
    /// shim finds its configuration through STENCIL_CONFIG, as a node's would). A checkpoint with all of its
    /// memory, exported from A and imported into B, restores there; one that was damaged on the way, or a
    /// node whose VM configuration differs, is refused with an error naming what, and leaves nothing.
    /// </summary>
    [Fact]
    public async Task A_checkpoint_with_full_memory_restores_on_another_node_and_a_damaged_or_foreign_one_is_refused()
    {
        const string id = "e2e-cp-node";
        const string image = "stencil-e2e/checkpoint-node:1";
        var shim = ShimBinaries.RequireShim();
        var nodeA = Path.Combine(s.Dir, "node-a");
        var nodeB = Path.Combine(s.Dir, "node-b");
        var configA = Path.Combine(s.Dir, "node-a.toml");
        var configB = Path.Combine(s.Dir, "node-b.toml");
        StencilConfigFile NodeConfig(string node, string? kernelParams = null) => new()
        {
            UseGuestImage = true,
            HypervisorKeys = "shared_fs = \"none\"" + (kernelParams is null ? "" : $"\nkernel_params = \"{kernelParams}\""),
            TemplatePath = Path.Combine(node, "tpl"),
            StateDir = Path.Combine(node, "state"),
            ShimSocketDir = Path.Combine(node, "s"),
            RuntimeKeys = "checkpoint_memory = \"full\"",
        };
        NodeConfig(nodeA).WriteTo(configA);
        // Node B first differs from A by a kernel parameter: another VM configuration.
        NodeConfig(nodeB, "stencil.node=b").WriteTo(configB);
        Task<PrivateContainerd> Start(string config) => PrivateContainerd.StartAsync(new PrivateContainerdOptions
        {
            Environment = new Dictionary<string, string> { ["PATH"] = ShimBinaries.PathWithFolderOf(shim), ["STENCIL_CONFIG"] = config },
        });
        await using var a = await Start(configA);
        await using var b = await Start(configB);
        Task<CommandResult> OnA(params string[] args) => a.CtrAsync("default", args, StencilContainerd.CtrTimeout);
        Task<CommandResult> OnB(params string[] args) => b.CtrAsync("default", args, StencilContainerd.CtrTimeout);
        await BusyboxImage.BuildAndImportAsync(a, "default", nodeA, StencilContainerd.CtrTimeout);
        await BusyboxImage.BuildAndImportAsync(b, "default", nodeB, StencilContainerd.CtrTimeout);
        IReadOnlyList<string> LeftOn(string node) =>
            [.. Leftovers.ProcessesMentioning(node).Select(p => $"{p.Pid}: {p.CommandLine}"), .. Leftovers.MountLinesMentioning(Path.Combine(node, "state")), .. Leftovers.PodStateUnder(Path.Combine(node, "state"))];

        (await OnA("run", "-d", "--runtime", R, I, id, "sh", "-c", CountingLoop)).EnsureSuccess("ctr run on A");
        async Task<int> Count(Func<string[], Task<CommandResult>> on, string execId)
        {
            var r = await on(["task", "exec", "--exec-id", execId + Interlocked.Increment(ref _execs), id, "sh", "-c", "cat /dev/shm/count 2>/dev/null || echo 0"]);
            return int.Parse(r.EnsureSuccess("exec").Trim(), CultureInfo.InvariantCulture);
        }
        await Eventually.UntilAsync(async () => await Count(OnA, "a") >= 2, "the loop counted on A");
        (await OnA("container", "checkpoint", "--task", id, image)).EnsureSuccess("checkpoint on A");
        var atCheckpoint = await Count(OnA, "a");
        var tar = Path.Combine(s.Dir, "checkpoint-node.tar");
        // The checkpoint's index lists blobs that are not manifests: Docker's manifest.json cannot describe it.
        (await OnA("image", "export", "--skip-manifest-json", tar, image)).EnsureSuccess("export from A");
        (await OnB("image", "import", tar)).EnsureSuccess("import into B");

        var foreign = await OnB("container", "restore", "--live", id, image);
        Assert.NotEqual(0, foreign.ExitCode);
        Assert.Contains("another VM configuration", foreign.Stderr, StringComparison.Ordinal);
        Assert.Contains("stencil.node=b", foreign.Stderr, StringComparison.Ordinal);
        await OnB("container", "rm", id);
        await Eventually.UntilAsync(() => Task.FromResult(LeftOn(nodeB).Count == 0), "nothing left on B after the refusal", () => string.Join("\n", LeftOn(nodeB)));

        NodeConfig(nodeB).WriteTo(configB);
        var blob = CheckpointImage.TaskDataBlob(b, image, await OnB("image", "ls"));
        var original = File.ReadAllBytes(blob);
        var damaged = (byte[])original.Clone();
        damaged[damaged.Length / 2] ^= 0x5A;
        File.WriteAllBytes(blob, damaged);
        var refused = await OnB("container", "restore", "--live", id, image);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("is damaged", refused.Stderr, StringComparison.Ordinal);
        await OnB("container", "rm", id);
        await Eventually.UntilAsync(() => Task.FromResult(LeftOn(nodeB).Count == 0), "nothing left on B after the damaged one", () => string.Join("\n", LeftOn(nodeB)));

        File.WriteAllBytes(blob, original);
        var restore = await OnB("container", "restore", "--live", id, image);
        Assert.True(restore.ExitCode == 0, $"restore on B: {restore.Stderr}\n{b.ReadLog()}");
        var restored = await Count(OnB, "b");
        Assert.True(restored >= atCheckpoint, $"count {restored} on B, {atCheckpoint} at the checkpoint on A");
        Assert.Equal("hello", (await OnB("task", "exec", "--exec-id", "b-marker", id, "cat", "/run/marker")).EnsureSuccess("cat").Trim());

        foreach (var on in new Func<string[], Task<CommandResult>>[] { OnA, OnB })
            await RemoveAsync(args => on(args), id);
        await Eventually.UntilAsync(() => Task.FromResult(LeftOn(nodeA).Count == 0 && LeftOn(nodeB).Count == 0), "nothing left on A or B",
            () => string.Join("\n", LeftOn(nodeA).Concat(LeftOn(nodeB))));
    }

    [Fact]
    public async Task A_pod_on_the_9p_share_is_refused_with_the_reason()
    {
        const string id = "e2e-cp-9p";
        (await s.Ctr("run", "-d", "--runtime", R, I, id, "sleep", "1000")).EnsureSuccess("ctr run");
        var checkpoint = await s.Ctr("container", "checkpoint", "--task", id, "stencil-e2e/checkpoint-9p:1");
        Assert.NotEqual(0, checkpoint.ExitCode);
        Assert.Contains("9p share", checkpoint.Stderr, StringComparison.Ordinal);
        Assert.Contains("shared_fs", checkpoint.Stderr, StringComparison.Ordinal);
        // Refused, not half done: the pod still runs.
        (await s.Ctr("task", "exec", "--exec-id", "x", id, "true")).EnsureSuccess("exec after the refusal");
        await RemoveAsync(id);
        await Eventually.NothingLeftAsync(s);
    }
}
