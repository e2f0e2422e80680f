using Stencil.Agent.Client;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Lifecycle;
using Stencil.Runtime.Pod;
using Stencil.TestSupport;

namespace Stencil.Runtime.Tests.Pod;

/// <summary>
/// [hypervisor] shared_fs = "none": no 9p share in the guest, each container's rootfs an ext4 image (made with the
/// real mkfs.ext4 from the bundle's rootfs) on a disk of the fake VM; what is on the host before, during and after.
/// </summary>
[Trait("Category", "Unit")]
public sealed class PodRuntimeWithoutShareTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-podruntime-noshare-").FullName;
    private readonly FakePodVmProvider _vms = new();
    private readonly RecordingMounter _mounter = new();
    private readonly List<ContainerConfig> _created = [];
    private PodRuntime _runtime = null!;

    private StatePaths Paths => new(Path.Combine(_dir, "state"));

    private string PodDir => Paths.PodDir("default", "pod1");

    private string Image(string id) => Path.Combine(Paths.ContainerDir("default", "pod1", id), "rootfs.img");

    public Task InitializeAsync()
    {
        Prerequisite.Executable("mkfs.ext4", "apt-get install e2fsprogs");
        _runtime = new PodRuntime(new PodRuntimeOptions("default", "pod1", Paths)
        {
            OutputDrainTimeout = TimeSpan.Zero, StartHolder = false, SharedFolder = false, RootfsImageMiB = 64,
        }, _vms, _mounter, NullLog.Instance);
        _vms.OnStart = vm => vm.FakeAgent.OnCreateContainer = config =>
        {
            lock (_created)
                _created.Add(config);
            return Task.CompletedTask;
        };
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _runtime.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private CreateContainerRequest Request(string id, string? configJson = null)
    {
        var bundle = PodTestBundle.Write(_dir, id);
        if (configJson is not null)
            File.WriteAllText(Path.Combine(bundle, "config.json"), configJson);
        return new CreateContainerRequest(id, bundle, [], new StdioPaths("", "", "", false));
    }

    private FakePodVm OnlyVm => Assert.Single(_vms.Started);

    [Fact]
    public async Task The_rootfs_is_an_image_on_a_read_write_disk_and_the_guest_mounts_no_share()
    {
        await _runtime.CreateAsync(Request("c1"), CancellationToken.None);

        Assert.Null(OnlyVm.FakeAgent.Sandbox!.Shared);
        var image = Image("c1");
        Assert.Equal([("blk0", image, false)], OnlyVm.Plugged);
        Assert.Equal(StorageMount.BlockBySerial("blk0", "ext4", "rootfs"), Assert.Single(_created).Storages![0]);
        // The bundle's rootfs was bound on the container's private folder, never into the share, and is off again.
        var source = Path.Combine(Paths.ContainerDir("default", "pod1", "c1"), "rootfs");
        var (mount, target) = Assert.Single(_mounter.Mounts);
        Assert.Equal(source, target);
        Assert.Contains("rbind", mount.Options);
        Assert.False(Directory.Exists(source), $"{source} is left");
        Assert.False(Directory.Exists(Paths.ContainerSharedDir("default", "pod1", "c1")));
        // (The mounter only records: the image holds an empty folder here; RootfsImageBuilderTests and the
        // end-to-end tests see the files go in.)
        Assert.InRange(new FileInfo(image).Length, 64L << 20, 66L << 20);
    }

    [Fact]
    public async Task Deleting_a_container_unplugs_its_disk_before_its_image_goes()
    {
        await _runtime.CreateAsync(Request("c1"), CancellationToken.None);
        await _runtime.CreateAsync(Request("c2"), CancellationToken.None);
        var imageAtUnplug = new List<bool>();
        OnlyVm.OnUnplug = _ => imageAtUnplug.Add(File.Exists(Image("c1")));

        await _runtime.DeleteAsync("c1", null, CancellationToken.None);

        Assert.Contains("RemoveContainer c1", OnlyVm.FakeAgent.Calls); // unmounted in the guest first
        Assert.Equal(["blk0"], OnlyVm.Unplugged);
        Assert.Equal([true], imageAtUnplug);
        Assert.False(File.Exists(Image("c1")), "c1's image is left");
        Assert.True(File.Exists(Image("c2")));
        Assert.Equal(PodState.Ready, _runtime.PodState);
    }

    [Fact]
    public async Task Deleting_the_last_container_stops_the_VM_and_leaves_nothing()
    {
        await _runtime.CreateAsync(Request("c1"), CancellationToken.None);

        await _runtime.DeleteAsync("c1", null, CancellationToken.None);

        await PodTestBundle.Eventually(() => _runtime.PodState == PodState.Empty);
        Assert.True(OnlyVm.Disposed);
        Assert.Empty(OnlyVm.Unplugged); // QEMU's exit released it
        await PodTestBundle.Eventually(() => !Directory.Exists(PodDir));
    }

    [Fact]
    public async Task A_create_the_agent_refuses_leaves_no_image_and_no_mount()
    {
        _vms.OnStart = vm => vm.FakeAgent.OnCreateContainer = _ => throw StencilException.FailedPrecondition("mount /dev/vda (ext4) on rootfs: invalid argument");

        await Assert.ThrowsAsync<StencilException>(() => _runtime.CreateAsync(Request("c1"), CancellationToken.None));

        Assert.True(OnlyVm.Disposed);
        Assert.Equal(0, _runtime.ContainerCount);
        Assert.False(Directory.Exists(PodDir), $"{PodDir} is left");
    }

    [Fact]
    public async Task A_disk_that_cannot_be_plugged_fails_the_create_and_leaves_no_image()
    {
        _vms.OnStart = vm => vm.PlugFailure = StencilException.Unavailable("no free PCIe root port for the disk");

        var e = await Assert.ThrowsAsync<StencilException>(() => _runtime.CreateAsync(Request("c1"), CancellationToken.None));

        Assert.Equal("no free PCIe root port for the disk", e.Message);
        Assert.True(OnlyVm.Disposed);
        Assert.Equal(0, _runtime.ContainerCount);
        Assert.False(Directory.Exists(PodDir), $"{PodDir} is left");
    }

    [Fact]
    public async Task A_host_bind_mount_is_refused_before_any_VM_starts()
    {
        var config = """
            {
              "ociVersion": "1.2.1",
              "process": { "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 } },
              "root": { "path": "rootfs" },
              "mounts": [ { "destination": "/data", "type": "bind", "source": "/srv", "options": ["rbind"] } ],
              "linux": { "namespaces": [ { "type": "mount" } ] }
            }
            """;

        var e = await Assert.ThrowsAsync<StencilException>(() => _runtime.CreateAsync(Request("c1", config), CancellationToken.None));

        Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("bind mount /srv -> /data", e.Message);
        Assert.Contains("shared_fs = \"none\"", e.Message);
        Assert.Equal(0, _vms.StartCalls);
        Assert.False(Directory.Exists(PodDir), $"{PodDir} is left");
    }
}
