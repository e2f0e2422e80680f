using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.Task;
using Stencil.TestSupport;
using Stencil.Ttrpc;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// Bad input refused with a clear error, and nothing left behind: not a VM (none is even started),
/// mount, socket, daemon or folder.
/// </summary>
[Collection(StencilCollection.Name)]
public sealed class BadInputTests(StencilContainerd s)
{
    private const string TaskService = "containerd.task.v2.Task";

    [Fact]
    public async Task A_missing_rootfs_fails_ctr_run_naming_it_before_any_VM_starts()
    {
        const string id = "e2e-norootfs";
        var missing = Path.Combine(s.Dir, "no-such-rootfs");
        var spec = JsonNode.Parse((await s.Ctr("oci", "spec")).EnsureSuccess("ctr oci spec"))!;
        spec["root"] = new JsonObject { ["path"] = missing };
        spec["process"]!["args"] = new JsonArray("true");
        var specPath = Path.Combine(s.Dir, "norootfs-spec.json");
        File.WriteAllText(specPath, spec.ToJsonString());

        var r = await s.Ctr("run", "--rm", "--runtime", StencilContainerd.Runtime, "--config", specPath, id);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"rootfs {missing} (root.path \"{missing}\") does not exist", r.Stderr);
        await s.Ctr("containers", "rm", id);
        Assert.DoesNotContain(s.Containerd.ReadLog().Split('\n'), l => l.Contains($"pod {id}: VM ready", StringComparison.Ordinal));
        await Eventually.NothingLeftAsync(s);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task A_malformed_config_json_fails_Create_with_InvalidArgument_naming_it_and_starts_no_VM()
    {
        const string id = "e2e-badjson";
        var bundle = Directory.CreateDirectory(Path.Combine(s.Dir, "bundles", id)).FullName;
        Directory.CreateDirectory(Path.Combine(bundle, "rootfs"));
        File.WriteAllText(Path.Combine(bundle, "config.json"), """{ "ociVersion": "1.0.2", "process": { "args": ["true"] """);
        try
        {
            await using var log = await BundleLogFifo.CreateAsync(Path.Combine(bundle, "log"));
            string[] flags = ["-namespace", "default", "-address", s.Containerd.Address, "-publish-binary", "/usr/bin/containerd", "-id", id, "-bundle", bundle];

            var start = await RunShimAsync([.. flags, "start"]);
            Assert.True(start.ExitCode == 0, $"start: {start.Stderr}");
            var address = start.Stdout.Trim();
            Assert.StartsWith($"unix://{s.SocketDir}/", address);

            int daemon;
            await using (var client = await TtrpcClient.ConnectAsync(address))
            {
                daemon = (int)(await CallAsync<ConnectRequest, ConnectResponse>(client, "Connect", new ConnectRequest { Id = id })).ShimPid;
                var ex = await Assert.ThrowsAsync<StencilException>(() =>
                    CallAsync<CreateTaskRequest, CreateTaskResponse>(client, "Create", new CreateTaskRequest { Id = id, Bundle = bundle, Stdout = "/dev/null" }));
                Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
                Assert.Contains($"{bundle}/config.json: not a valid runtime spec", ex.Message);
                // What containerd does next after a failed Create: Shutdown, then `delete`.
                await CallAsync<ShutdownRequest, Empty>(client, "Shutdown", new ShutdownRequest { Id = id });
            }
            await Eventually.UntilAsync(() => Task.FromResult(!IsRunning(daemon)), $"shim daemon {daemon} exited");
            var delete = await RunShimAsync([.. flags, "delete"]);
            Assert.True(delete.ExitCode == 0, $"delete: {delete.Stderr}");

            Assert.False(File.Exists(address["unix://".Length..]), "the shim socket is left");
            Assert.Contains("Create failed", log.Text);
            Assert.DoesNotContain("VM ready", log.Text);
            Assert.DoesNotContain("template", log.Text);
        }
        finally
        {
            Directory.Delete(bundle, recursive: true);
        }
        await Eventually.NothingLeftAsync(s);
    }

    /// <summary>The published shim run as containerd runs it: runtime options on stdin (none here), the config in STENCIL_CONFIG.</summary>
    private Task<CommandResult> RunShimAsync(string[] args) =>
        ChildProcess.RunAsync(Path.Combine(RepoPaths.Build, "bin", "containerd-shim-stencil-v2"), args, TimeSpan.FromSeconds(30),
            new Dictionary<string, string> { ["STENCIL_CONFIG"] = s.ConfigPath, ["TTRPC_ADDRESS"] = s.Containerd.TtrpcAddress });

    private static Task<TResponse> CallAsync<TRequest, TResponse>(TtrpcClient client, string method, TRequest request)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        client.CallAsync(new TtrpcMethod<TRequest, TResponse>(TaskService, method), request, new TtrpcCallOptions { Timeout = TimeSpan.FromSeconds(30) });

    /// <summary>Alive and not a zombie (an exited daemon waits for init to reap it).</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            return !File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
