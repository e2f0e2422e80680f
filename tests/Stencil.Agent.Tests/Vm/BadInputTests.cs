using System.Text;
using Stencil.Agent.Client;

namespace Stencil.Agent.Tests.Vm;

[Collection(GuestVmCollection.Name)]
public sealed class BadInputTests(GuestVmFixture vm)
{
    private AgentClient Agent => vm.Agent;

    private static async Task<StencilException> Fails(ErrorKind kind, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<StencilException>(call);
        Assert.True(ex.Kind == kind, $"expected {kind}, got {ex.Kind}: {ex.Message}");
        return ex;
    }

    [Fact]
    public async Task Unknown_ids_are_not_found()
    {
        foreach (var call in new Func<Task>[]
        {
            () => Agent.StartContainerAsync("ghost"),
            () => Agent.RemoveContainerAsync("ghost"),
            () => Agent.PauseContainerAsync("ghost"),
            () => Agent.StatsContainerAsync("ghost"),
            () => Agent.WaitProcessAsync("ghost", null),
            () => Agent.SignalProcessAsync("ghost", null, 9),
            () => Agent.ReadStdoutAsync("ghost", null),
            () => Agent.ExecProcessAsync("ghost", "e", TestSpecs.ProcessJson(["true"])),
        })
        {
            var ex = await Fails(ErrorKind.NotFound, call);
            Assert.Contains("\"ghost\"", ex.Message);
        }
        await vm.CreateAsync("known", ["true"]);
        try
        {
            var ex = await Fails(ErrorKind.NotFound, () => Agent.WaitProcessAsync("known", "no-such-exec"));
            Assert.Contains("no-such-exec", ex.Message);
            await Fails(ErrorKind.AlreadyExists, () => vm.CreateAsync("known", ["true"]));
        }
        finally
        {
            await Agent.RemoveContainerAsync("known", force: true);
        }
    }

    [Fact]
    public async Task Malformed_spec_names_the_field()
    {
        var ex = await Fails(ErrorKind.InvalidArgument, () => vm.CreateAsync("bad1", Encoding.UTF8.GetBytes("{not json")));
        Assert.Contains("oci_spec_json", ex.Message);
        var spec = TestSpecs.Spec(["true"]);
        spec["process"]!["args"] = 5;
        ex = await Fails(ErrorKind.InvalidArgument, () => vm.CreateAsync("bad2", Encoding.UTF8.GetBytes(spec.ToJsonString())));
        Assert.Contains("process.args", ex.Message);
        spec = TestSpecs.Spec(["true"]);
        spec["process"]!["cwd"] = "relative";
        ex = await Fails(ErrorKind.InvalidArgument, () => vm.CreateAsync("bad3", Encoding.UTF8.GetBytes(spec.ToJsonString())));
        Assert.Contains("process.cwd \"relative\"", ex.Message);
        await Fails(ErrorKind.InvalidArgument, () => vm.CreateAsync("../escape", ["true"]));
        // The failures left nothing behind: the ids are free.
        await vm.CreateAsync("bad1", ["true"]);
        await Agent.RemoveContainerAsync("bad1");
    }

    [Fact]
    public async Task Storage_and_paths_cannot_escape()
    {
        var spec = TestSpecs.SpecJson(["true"]);
        Task Create(StorageMount storage) => Agent.CreateContainerAsync(new ContainerConfig("escape", spec, [storage]));

        var ex = await Fails(ErrorKind.PermissionDenied, () => Create(StorageMount.Shared("../", "rootfs")));
        Assert.Contains("storages[0].shared_path", ex.Message);
        await Fails(ErrorKind.PermissionDenied, () => Create(StorageMount.Shared("/etc", "rootfs")));
        ex = await Fails(ErrorKind.PermissionDenied, () => Create(StorageMount.Shared("rootfs", "/etc")));
        Assert.Contains("storages[0].mount_point", ex.Message);
        await Fails(ErrorKind.PermissionDenied, () => Create(StorageMount.Shared("rootfs", "../other/rootfs")));

        // A symlink in the share leads to the guest's own /: resolved in the guest, refused.
        var link = Path.Combine(vm.ShareDir, "evil");
        File.CreateSymbolicLink(link, "/");
        try
        {
            ex = await Fails(ErrorKind.PermissionDenied, () => Create(StorageMount.Shared("evil", "rootfs")));
            Assert.Contains("resolves to \"/\"", ex.Message);
        }
        finally
        {
            File.Delete(link);
        }

        var outside = TestSpecs.Spec(["true"]);
        outside["root"]!["path"] = "/etc";
        ex = await Fails(ErrorKind.PermissionDenied, () => vm.CreateAsync("escape", Encoding.UTF8.GetBytes(outside.ToJsonString())));
        Assert.Contains("root.path \"/etc\"", ex.Message);
        await Fails(ErrorKind.InvalidArgument, () => Agent.CreateContainerAsync(new ContainerConfig("escape", spec,
            [StorageMount.BlockByPci("../../x", "ext4", "vol")])));
        await Fails(ErrorKind.NotFound, () => Agent.CreateContainerAsync(new ContainerConfig("escape", spec,
            [StorageMount.BlockBySerial("no-such-disk", "ext4", "vol") with { DeviceTimeout = TimeSpan.FromMilliseconds(200) }])));
    }

    [Fact]
    public async Task Missing_command_fails_with_the_runtimes_message_and_the_agent_keeps_serving()
    {
        var ex = await Assert.ThrowsAsync<StencilException>(async () =>
        {
            await vm.CreateAsync("nocmd", ["/no/such/command"]);
            await Agent.StartContainerAsync("nocmd");
        });
        Assert.Contains("/no/such/command", ex.Message);
        try
        {
            await Agent.RemoveContainerAsync("nocmd", force: true);
        }
        catch (StencilException e) when (e.Kind == ErrorKind.NotFound)
        {
            // create itself failed: nothing to remove
        }
        Assert.True(await Agent.CheckAsync());
        Assert.Equal("still here\n", (await vm.RunAsync("after-nocmd", "echo", "still here")).Stdout);
    }

    [Fact]
    public async Task Bad_guest_requests_are_refused()
    {
        await Fails(ErrorKind.InvalidArgument, () => Agent.ReseedRandomDevAsync(ReadOnlyMemory<byte>.Empty));
        await Fails(ErrorKind.InvalidArgument, () => Agent.SetGuestDateTimeAsync(DateTimeOffset.UnixEpoch.AddSeconds(-1)));
        await Fails(ErrorKind.AlreadyExists, () => Agent.CreateSandboxAsync(new SandboxConfig("again")));
        await Fails(ErrorKind.InvalidArgument, () => Agent.ResizeTtyAsync("x", null, 0, 80));
    }
}
