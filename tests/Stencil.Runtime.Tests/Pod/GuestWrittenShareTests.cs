using Stencil.Runtime.Configuration;
using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests.Pod;

/// <summary>
/// The pod's share after a hostile guest wrote links into it (over 9p; here straight into the folder):
/// the next container's folders and bind targets are made beneath the share or not at all, and nothing
/// the links name outside it is created, truncated or mounted onto.
/// </summary>
[Trait("Category", "Unit")]
public sealed class GuestWrittenShareTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-guestshare-").FullName;
    private readonly FakePodVmProvider _vms = new();
    private readonly RecordingMounter _mounter = new();
    private PodRuntime _runtime = null!;

    private StatePaths Paths => new(Path.Combine(_dir, "state"));

    private string Shared => Paths.SharedDir("default", "pod1");

    private string Outside => Path.Combine(_dir, "outside");

    private string Secret => Path.Combine(Outside, "secret");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Secret, "host secret");
        _runtime = new PodRuntime(new PodRuntimeOptions("default", "pod1", Paths) { OutputDrainTimeout = TimeSpan.Zero, StartHolder = false }, _vms, _mounter, NullLog.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _runtime.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private CreateContainerRequest Request(string id, string? bindSource = null)
    {
        var bundle = Path.Combine(_dir, "bundles", id);
        Directory.CreateDirectory(Path.Combine(bundle, "rootfs"));
        var mounts = bindSource is null ? "" : $$""", "mounts": [ { "destination": "/dev/termination-log", "type": "bind", "source": "{{bindSource}}", "options": ["rbind", "rw"] } ]""";
        File.WriteAllText(Path.Combine(bundle, "config.json"), $$"""
            {
              "ociVersion": "1.2.1",
              "process": { "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 } },
              "root": { "path": "rootfs" }{{mounts}},
              "linux": { "namespaces": [ { "type": "mount" }, { "type": "pid" }, { "type": "ipc" }, { "type": "network" } ] }
            }
            """);
        return new CreateContainerRequest(id, bundle, [], new StdioPaths("", "", "", false));
    }

    [Fact]
    public async Task A_link_in_place_of_the_next_containers_folder_fails_its_create_and_nothing_is_made_outside()
    {
        await _runtime.CreateAsync(Request("c1"), CancellationToken.None);
        Directory.CreateSymbolicLink(Path.Combine(Shared, "c2"), Outside);

        var ex = await Assert.ThrowsAsync<StencilException>(() => _runtime.CreateAsync(Request("c2"), CancellationToken.None));

        Assert.Equal(ErrorKind.FailedPrecondition, ex.Kind);
        Assert.Contains($"{Shared}/c2: a symbolic link on the way", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["secret"], Directory.EnumerateFileSystemEntries(Outside).Select(Path.GetFileName));
        Assert.DoesNotContain(_mounter.Mounts, m => m.Target.Contains("/c2/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_link_in_place_of_a_file_bind_target_is_not_truncated_through()
    {
        var terminationLog = Path.Combine(_dir, "termination-log");
        File.WriteAllText(terminationLog, "");
        await _runtime.CreateAsync(Request("c1"), CancellationToken.None);
        Directory.CreateDirectory(Path.Combine(Shared, "c2", "mounts"));
        File.CreateSymbolicLink(Path.Combine(Shared, "c2", "mounts", "0"), Secret);

        var ex = await Assert.ThrowsAsync<StencilException>(() => _runtime.CreateAsync(Request("c2", terminationLog), CancellationToken.None));

        Assert.Equal(ErrorKind.FailedPrecondition, ex.Kind);
        Assert.Equal($"bind mount target {Shared}/c2/mounts/0 exists already (made by the guest?): not mounted onto", ex.Message);
        Assert.Equal("host secret", File.ReadAllText(Secret));
    }

    [Fact]
    public async Task Links_the_guest_left_in_a_containers_folder_go_with_it_and_what_they_name_stays()
    {
        await _runtime.CreateAsync(Request("c1"), CancellationToken.None);
        var c1 = Path.Combine(Shared, "c1");
        Directory.CreateSymbolicLink(Path.Combine(c1, "root"), "/");
        Directory.CreateSymbolicLink(Path.Combine(c1, "outside"), Outside);
        Directory.CreateDirectory(Path.Combine(c1, "deep"));
        File.CreateSymbolicLink(Path.Combine(c1, "deep", "up"), "../../../../../../outside/secret");

        await _runtime.DeleteAsync("c1", null, CancellationToken.None);

        Assert.False(Directory.Exists(c1));
        Assert.Equal("host secret", File.ReadAllText(Secret));
    }
}
