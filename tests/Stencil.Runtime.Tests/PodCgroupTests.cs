using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests;

[Trait("Category", "Unit")]
public sealed class PodCgroupTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("stencil-cgroup-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("/default/c1", "default/c1")]
    [InlineData("default/c1", "default/c1")]
    [InlineData("/kubepods/besteffort/pod1/abc", "kubepods/besteffort/pod1/abc")]
    [InlineData("kubepods-besteffort-pod1.slice:cri-containerd:abc",
        "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-abc.scope")]
    [InlineData("system.slice:docker:abc", "system.slice/docker-abc.scope")]
    [InlineData(":cri-containerd:abc", "system.slice/cri-containerd-abc.scope")]
    [InlineData("-.slice:p:abc", "p-abc.scope")]
    [InlineData("machine.slice::abc", "machine.slice/abc.scope")]
    [InlineData("a-b.slice:p:c.slice", "a.slice/a-b.slice/c.slice")]
    public void Cgroup_paths_and_systemds_form_map_to_folders(string cgroupsPath, string expected) =>
        Assert.Equal(expected, PodCgroup.ToRelativePath(cgroupsPath));

    [Theory]
    [InlineData("/", "root cgroup")]
    [InlineData("/default/../../etc", "\"..\"")]
    [InlineData("a:b", "neither a path nor")]
    [InlineData("kubepods.slice:cri-containerd:", "needs a unit name")]
    [InlineData("kubepods:cri-containerd:abc", "not a systemd slice name")]
    [InlineData("a--b.slice:p:abc", "not a valid systemd slice name")]
    public void Bad_cgroup_paths_are_refused_with_the_reason(string cgroupsPath, string reason)
    {
        var ex = Assert.Throws<StencilException>(() => PodCgroup.ToRelativePath(cgroupsPath));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(reason, ex.Message);
    }

    [Theory]
    [InlineData("kubepods-besteffort-pod1.slice", "s1", "kubepods-besteffort-pod1.slice:cri-containerd:s1")]
    [InlineData("/kubepods/besteffort/pod1", "s1", "/kubepods/besteffort/pod1/s1")]
    [InlineData("/kubepods/pod1/", "s1", "/kubepods/pod1/s1")]
    [InlineData("", "s1", null)]
    public void A_sandbox_gets_the_path_containerds_cri_plugin_gives_it_below_its_parent(string parent, string id, string? expected) =>
        Assert.Equal(expected, PodCgroup.ForSandbox(parent, id));

    [Fact]
    public void In_cgroup_v1_each_hierarchy_gets_the_folder_the_process_and_the_memory_limit()
    {
        foreach (var controller in new[] { "memory", "cpu", "pids" })
        {
            Directory.CreateDirectory(Path.Combine(_root, controller));
            File.WriteAllText(Path.Combine(_root, controller, "cgroup.procs"), "");
        }
        Directory.CreateSymbolicLink(Path.Combine(_root, "cpuacct"), Path.Combine(_root, "cpu")); // cpu,cpuacct as one hierarchy

        var cgroup = PodCgroup.Create("/default/pod1", _root);
        cgroup.Add(4242);
        cgroup.SetMemoryLimit(1280L << 20);

        Assert.Equal(["memory", "cpu", "pids"], cgroup.Leaves.Select(l => Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(l)))));
        foreach (var leaf in cgroup.Leaves)
            Assert.Equal("4242", File.ReadAllText(Path.Combine(leaf, "cgroup.procs")));
        Assert.Equal((1280L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture),
            File.ReadAllText(Path.Combine(_root, "memory", "default", "pod1", "memory.limit_in_bytes")));
        Assert.Equal(1280L << 20, cgroup.MemoryLimit());
    }

    [Fact]
    public void In_cgroup_v2_the_unified_folder_gets_memory_max_and_the_parent_delegates_controllers()
    {
        File.WriteAllText(Path.Combine(_root, "cgroup.controllers"), "memory cpu io pids");
        var cgroup = PodCgroup.Create("/kubepods/pod1/s1", _root);
        cgroup.SetMemoryLimit(512L << 20);

        Assert.Equal([Path.Combine(_root, "kubepods", "pod1", "s1")], cgroup.Leaves);
        Assert.Equal((512L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(cgroup.Leaves[0], "memory.max")));
        Assert.True(File.Exists(Path.Combine(_root, "kubepods", "pod1", "cgroup.subtree_control")));
    }

    [Fact]
    public void No_hierarchy_is_a_failed_precondition_naming_the_root()
    {
        var ex = Assert.Throws<StencilException>(() => PodCgroup.Create("/default/pod1", _root));
        Assert.Equal(ErrorKind.FailedPrecondition, ex.Kind);
        Assert.Contains(_root, ex.Message);
    }
}
