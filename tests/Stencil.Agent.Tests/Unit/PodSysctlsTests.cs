using Stencil.Agent.Pod;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class PodSysctlsTests
{
    [Fact]
    public void Network_and_ipc_sysctls_go_to_their_namespaces()
    {
        var (network, ipc) = PodSysctls.Classify([
            new("net.ipv4.ip_unprivileged_port_start", "0"), new("kernel.shmmax", "65536"), new("kernel.msgmax", "8192"),
            new("kernel.sem", "250 32000 100 128"), new("fs.mqueue.msg_max", "20"), new("kernel.shm_rmid_forced", "1")]);

        Assert.Equal(["net.ipv4.ip_unprivileged_port_start"], network.Select(s => s.Key));
        Assert.Equal(["kernel.shmmax", "kernel.msgmax", "kernel.sem", "fs.mqueue.msg_max", "kernel.shm_rmid_forced"], ipc.Select(s => s.Key));
        Assert.Equal("/proc/sys/fs/mqueue/msg_max", PodSysctls.ProcPath("fs.mqueue.msg_max"));
    }

    [Theory]
    [InlineData("vm.swappiness")]
    [InlineData("kernel.hostname")]
    [InlineData("kernel.semx")]
    [InlineData("fs.file-max")]
    public void A_sysctl_of_no_namespace_is_refused(string key)
    {
        var ex = Assert.Throws<StencilException>(() => PodSysctls.Classify([new(key, "1")]));
        Assert.Equal((ErrorKind.InvalidArgument, $"sysctl \"{key}\" is not in a separate kernel namespace"), (ex.Kind, ex.Message));
    }

    [Theory]
    [InlineData("net.ipv4.conf.eth0/100.forwarding")]
    [InlineData("net..ipv4")]
    [InlineData("net.ipv4...")]
    [InlineData("net")]
    [InlineData("Net.ipv4.ip_forward")]
    [InlineData("net.ipv4.ip forward")]
    [InlineData("")]
    public void A_malformed_key_is_refused_by_name(string key)
    {
        var ex = Assert.Throws<StencilException>(() => PodSysctls.Classify([new(key, "1")]));
        Assert.Equal((ErrorKind.InvalidArgument, $"sysctl \"{key}\" is not a sysctl name (dotted levels of a-z 0-9 _ -)"), (ex.Kind, ex.Message));
    }

    [Fact]
    public void A_value_with_a_newline_is_refused()
    {
        var ex = Assert.Throws<StencilException>(() => PodSysctls.Classify([new("kernel.shmmax", "1\nkernel.x=2")]));
        Assert.Equal((ErrorKind.InvalidArgument, "sysctl \"kernel.shmmax\": the value contains a newline or a NUL"), (ex.Kind, ex.Message));
    }
}
