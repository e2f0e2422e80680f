using System.Text.Json.Nodes;
using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.Task;
using Stencil.TestSupport;
using Stencil.Ttrpc;
using static Stencil.EndToEnd.Tests.ShimBinary;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// Bad input refused with a clear error, and nothing left behind: not a VM (none is even started),
/// mount, socket, daemon or folder.
/// </summary>
[Collection(StencilCollection.Name)]
public sealed class BadInputTests(StencilContainerd s)
{
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
            await using var log = LogFifo.Create(Path.Combine(bundle, "log"));
            var shim = new ShimBinary(s);
            var flags = shim.Flags(id, bundle);

            var start = await shim.RunAsync([.. flags, "start"]);
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
            var delete = await shim.RunAsync([.. flags, "delete"]);
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
}
