using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.Sandbox;
using Stencil.Protocols.Cri;
using Stencil.Runtime;
using Stencil.Shim.Serve;

namespace Stencil.Shim.Tests;

/// <summary>containerd's sandbox API messages to the runtime's records and back (pure), with CRI's pod config as containerd packs it.</summary>
[Trait("Category", "Unit")]
public sealed class SandboxConversionTests
{
    private static PodSandboxConfig PodConfig()
    {
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = "web-0", Namespace = "default", Uid = "u1" },
            Hostname = "web-0",
            DnsConfig = new DNSConfig { Servers = { "10.96.0.10" }, Searches = { "default.svc.cluster.local" }, Options = { "ndots:5" } },
            Linux = new LinuxPodSandboxConfig
            {
                SecurityContext = new LinuxSandboxSecurityContext
                {
                    NamespaceOptions = new NamespaceOption { Network = NamespaceMode.Pod, Pid = NamespaceMode.Pod, Ipc = NamespaceMode.Pod },
                },
            },
        };
        config.Linux.Sysctls["kernel.shm_rmid_forced"] = "1";
        config.Annotations["io.stencil.vcpus"] = "2";
        return config;
    }

    private static CreateSandboxRequest Create(string typeUrl, ByteString value, string netns = "/var/run/netns/cni-1") => new()
    {
        SandboxId = "s1",
        BundlePath = "/run/containerd/s1",
        NetnsPath = netns,
        Options = new Any { TypeUrl = typeUrl, Value = value },
    };

    [Theory]
    [InlineData("runtime.v1.PodSandboxConfig")]
    [InlineData("type.googleapis.com/runtime.v1.PodSandboxConfig")]
    public void The_pod_config_in_the_options_becomes_the_request(string typeUrl)
    {
        var request = Create(typeUrl, PodConfig().ToByteString());
        request.Annotations["from"] = "containerd";

        var r = SandboxConversions.ToRequest(request);

        Assert.Equal(("s1", "/run/containerd/s1", "/var/run/netns/cni-1", "web-0"), (r.Id, r.Bundle, r.NetworkNamespace, r.Hostname));
        Assert.Equal(["10.96.0.10"], r.DnsServers);
        Assert.Equal(["default.svc.cluster.local"], r.DnsSearch);
        Assert.Equal(["ndots:5"], r.DnsOptions);
        Assert.Equal("1", r.Sysctls["kernel.shm_rmid_forced"]);
        Assert.Equal("2", r.Annotations["io.stencil.vcpus"]);
        Assert.Equal("containerd", r.Annotations["from"]);
        Assert.Equal((PodNamespaceMode.Pod, PodNamespaceMode.Pod, false), (r.PidMode, r.IpcMode, r.UserNamespace));
    }

    [Fact]
    public void Host_namespaces_and_a_user_namespace_are_carried_for_the_runtime_to_refuse()
    {
        var config = PodConfig();
        config.Linux.SecurityContext.NamespaceOptions.Pid = NamespaceMode.Node;
        config.Linux.SecurityContext.NamespaceOptions.Ipc = NamespaceMode.Node;
        config.Linux.SecurityContext.NamespaceOptions.UsernsOptions = new UserNamespace { Mode = NamespaceMode.Pod };

        var r = SandboxConversions.ToRequest(Create(SandboxConversions.PodSandboxConfigType, config.ToByteString(), netns: ""));

        Assert.Null(r.NetworkNamespace);
        Assert.Equal((PodNamespaceMode.Node, PodNamespaceMode.Node, true), (r.PidMode, r.IpcMode, r.UserNamespace));
    }

    [Fact]
    public void No_options_give_an_empty_pod_config()
    {
        var r = SandboxConversions.ToRequest(new CreateSandboxRequest { SandboxId = "s1", NetnsPath = "/n" });

        Assert.Equal("", r.Hostname);
        Assert.Empty(r.Sysctls);
        Assert.Equal((PodNamespaceMode.Container, PodNamespaceMode.Pod), (r.PidMode, r.IpcMode));
    }

    [Fact]
    public void Options_of_another_type_or_that_do_not_parse_are_InvalidArgument()
    {
        var other = Assert.Throws<StencilException>(() => SandboxConversions.ToRequest(Create("runtime.v1.ContainerConfig", ByteString.Empty)));
        Assert.Equal(ErrorKind.InvalidArgument, other.Kind);
        Assert.Contains("runtime.v1.ContainerConfig", other.Message, StringComparison.Ordinal);

        var garbage = Assert.Throws<StencilException>(() =>
            SandboxConversions.ToRequest(Create(SandboxConversions.PodSandboxConfigType, ByteString.CopyFrom(0x0a, 0xff, 0xff))));
        Assert.Equal(ErrorKind.InvalidArgument, garbage.Kind);
        Assert.Contains("does not parse", garbage.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Status_uses_CRIs_state_names_and_Go_zero_time_before_the_exit()
    {
        var created = new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
        var ready = SandboxConversions.ToStatus(new SandboxStatus("s1", 42, true, created, null, new Dictionary<string, string> { ["vm_origin"] = "pool" }));
        var stopped = SandboxConversions.ToStatus(new SandboxStatus("s1", 42, false, created, created.AddMinutes(1), new Dictionary<string, string>()));

        Assert.Equal(("s1", 42u, "SANDBOX_READY"), (ready.SandboxId, ready.Pid, ready.State));
        Assert.Equal(created, ready.CreatedAt.ToDateTimeOffset());
        Assert.Equal(TaskConversions.GoZeroTime, ready.ExitedAt);
        Assert.Equal("pool", ready.Info["vm_origin"]);
        Assert.Equal("SANDBOX_NOTREADY", stopped.State);
        Assert.Equal(created.AddMinutes(1), stopped.ExitedAt.ToDateTimeOffset());
    }

    [Fact]
    public void The_platform_is_linux_on_the_hosts_architecture()
    {
        var platform = SandboxService.HostPlatform();

        Assert.Equal("linux", platform.Os);
        Assert.Equal(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64 ? "amd64" : platform.Architecture,
            platform.Architecture);
    }
}
