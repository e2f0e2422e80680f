using Stencil.TestSupport;

namespace Stencil.Hypervisor.Tests.Support;

/// <summary>
/// One test's QEMU world: a short temp folder (unix socket paths are limited to 107 bytes), the VMs
/// it created, and at the end proof that nothing leaked: every VM disposed, none of its pids alive,
/// no qemu child of this process left, the folder gone.
/// </summary>
public sealed class QemuScope : IAsyncDisposable
{
    private readonly List<QemuVm> _vms = [];
    private readonly HashSet<int> _pids = [];

    public QemuScope(QemuVmOptions? options = null)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("stencil-test-hv-").FullName;
        Options = options ?? new QemuVmOptions();
    }

    public string Directory { get; }

    public QemuVmOptions Options { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>A sub-folder per instance with the usual qmp.sock, agent.sock, console.log, qemu.pid.</summary>
    public VmInstancePaths PathsFor(string name)
    {
        var dir = System.IO.Directory.CreateDirectory(PathOf(name)).FullName;
        return VmInstancePaths.InDirectory(dir);
    }

    /// <summary>A sparse file standing in for a template's memory, for clones that are never restored.</summary>
    public string SparseMemoryFile(string name, int sizeMiB)
    {
        var path = PathOf(name);
        using var file = File.Create(path);
        file.SetLength((long)sizeMiB * 1024 * 1024);
        return path;
    }

    public string SharedFolder(string name) => System.IO.Directory.CreateDirectory(PathOf(name)).FullName;

    public VmInstance ColdBoot(string name) =>
        VmInstance.ForColdBoot(PathsFor(name)) with { Name = name, SharedDirectory = SharedFolder(name + "-share") };

    public VmInstance Template(string name, string memoryFile) =>
        VmInstance.ForTemplate(PathsFor(name), memoryFile) with { Name = name, SharedDirectory = SharedFolder(name + "-share") };

    public VmInstance Clone(string name, string memoryFile) =>
        VmInstance.ForClone(PathsFor(name), memoryFile) with { Name = name, SharedDirectory = SharedFolder(name + "-share"), VmGenId = Guid.NewGuid() };

    /// <summary>Creates a tracked VM (not started), so even a failed start is cleaned up and checked.</summary>
    public QemuVm Create(VmDescription description, VmInstance instance, QemuVmOptions? options = null)
    {
        var vm = QemuVm.Create(description, instance, options ?? Options);
        _vms.Add(vm);
        return vm;
    }

    public async Task<QemuVm> StartAsync(VmDescription description, VmInstance instance, QemuVmOptions? options = null)
    {
        var vm = Create(description, instance, options);
        try
        {
            await vm.StartAsync();
        }
        finally
        {
            if (vm.ProcessId is { } pid)
                _pids.Add(pid);
        }
        return vm;
    }

    public void Remember(QemuVm vm)
    {
        if (vm.ProcessId is { } pid)
            _pids.Add(pid);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var vm in _vms)
        {
            Remember(vm);
            await vm.DisposeAsync();
        }
        try
        {
            foreach (var pid in _pids)
                Assert.False(System.IO.Directory.Exists($"/proc/{pid}"), $"qemu pid {pid} still exists after its VM was disposed");
            var children = QemuChildren();
            Assert.True(children.Count == 0, "qemu processes left behind: " + string.Join(", ", children));
        }
        finally
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    /// <summary>Pids of qemu-system-* processes whose parent is this test process.</summary>
    public static List<int> QemuChildren() => [.. Leftovers.QemuChildrenOf(Environment.ProcessId)];
}
