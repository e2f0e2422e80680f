namespace Stencil.Hypervisor.Tests;

[Trait("Category", "Unit")]
public sealed class CommandLineValidationTests
{
    private static readonly VmInstancePaths s_paths = new("/r/q.sock", "/r/a.sock");

    private static StencilException Invalid(VmDescription description, VmInstance? instance = null)
    {
        var ex = Assert.Throws<StencilException>(() => QemuCommandLine.Build(description, instance ?? VmInstance.ForColdBoot(s_paths)));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        return ex;
    }

    [Fact]
    public void Cpu_and_memory_limits_name_the_field_and_value()
    {
        Assert.Contains("cpus.boot = 0", Invalid(new VmDescription { Cpus = new CpuTopology(0, 1) }).Message);
        Assert.Contains("cpus.max = 1", Invalid(new VmDescription { Cpus = new CpuTopology(2, 1) }).Message);
        Assert.Contains("memory.size_mib = 0", Invalid(new VmDescription { Memory = new MemoryLayout(0, 0, 0) }).Message);
        Assert.Contains("memory.max_mib = 64", Invalid(new VmDescription { Memory = new MemoryLayout(128, 64, 0) }).Message);
        Assert.Contains("memory.hotplug_slots = 0", Invalid(new VmDescription { Memory = new MemoryLayout(128, 512, 0) }).Message);
    }

    [Fact]
    public void Root_ports_need_q35_and_a_sane_count()
    {
        Assert.Contains("hotplug_root_ports = 25", Invalid(new VmDescription { HotplugRootPorts = 25 }).Message);
        Assert.Contains("needs machine q35", Invalid(new VmDescription { Machine = "pc", HotplugRootPorts = 1 }).Message);
    }

    [Fact]
    public void Roles_need_the_right_memory_file()
    {
        Assert.Contains("memory_file is empty", Invalid(new VmDescription(), new VmInstance(VmRole.Template, s_paths)).Message);
        Assert.Contains("memory_file is empty", Invalid(new VmDescription(), new VmInstance(VmRole.Clone, s_paths)).Message);
        Assert.Contains("a cold boot uses anonymous RAM",
            Invalid(new VmDescription(), VmInstance.ForColdBoot(s_paths) with { MemoryFile = "/m" }).Message);
    }

    [Fact]
    public void Shared_folder_and_vmgenid_must_match_the_description()
    {
        Assert.Contains("shared_directory is empty", Invalid(new VmDescription { SharedFolder = new SharedFolderDevice("t") }).Message);
        Assert.Contains("has no shared folder device",
            Invalid(new VmDescription(), VmInstance.ForColdBoot(s_paths) with { SharedDirectory = "/x" }).Message);
        Assert.Contains("has no vmgenid device",
            Invalid(new VmDescription(), VmInstance.ForColdBoot(s_paths) with { VmGenId = Guid.NewGuid() }).Message);
    }

    [Fact]
    public void Socket_paths_longer_than_sun_path_are_refused()
    {
        var longPath = "/" + new string('s', 120);
        var ex = Invalid(new VmDescription(), VmInstance.ForColdBoot(new VmInstancePaths(longPath, "/r/a.sock")));
        Assert.Contains("qmp_socket", ex.Message);
        Assert.Contains("at most 107", ex.Message);
    }

    [Fact]
    public void Names_and_paths_cannot_smuggle_syntax()
    {
        Assert.Contains("agent_port_name", Invalid(new VmDescription { AgentPortName = "a,b" }).Message);
        Assert.Contains("shared_folder.mount_tag", Invalid(new VmDescription { SharedFolder = new SharedFolderDevice("x y") },
            VmInstance.ForColdBoot(s_paths) with { SharedDirectory = "/s" }).Message);
        Assert.Contains("line break", Invalid(new VmDescription { Kernel = new KernelBoot("/k\n-device x") }).Message);
        Assert.Contains("console_log and console_socket", Invalid(new VmDescription(),
            VmInstance.ForColdBoot(s_paths with { ConsoleLog = "/c", ConsoleSocket = "/c.sock" })).Message);
    }
}
