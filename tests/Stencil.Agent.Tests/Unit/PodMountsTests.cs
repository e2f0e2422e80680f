using Stencil.Agent.Pod;
using Stencil.Agent.Tests.Vm;
using Stencil.Oci;
using Stencil.Oci.Model;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class PodMountsTests
{
    private const string Files = "/run/stencil/pod";
    private const string Shm = "/run/stencil/ephemeral/shm";

    internal static Spec CriSpec(string sandboxId = "pod1", string type = CriAnnotations.ContainerTypeContainer)
    {
        var spec = SpecJson.ParseSpec(TestSpecs.SpecJson(["true"]), "spec");
        spec.Annotations = new() { [CriAnnotations.ContainerType] = type, [CriAnnotations.SandboxId] = sandboxId };
        return spec;
    }

    private static string Describe(Mount m) => $"{m.Destination} {m.Type} {m.Source} {string.Join(',', m.Options ?? [])}";

    [Fact]
    public void Only_the_pods_application_containers_get_the_pod_mounts()
    {
        Assert.True(PodMounts.IsPodContainer(CriSpec(), "pod1"));
        Assert.False(PodMounts.IsPodContainer(CriSpec(sandboxId: "pod2"), "pod1"));
        Assert.False(PodMounts.IsPodContainer(CriSpec(type: CriAnnotations.ContainerTypeSandbox), "pod1"));
        Assert.False(PodMounts.IsPodContainer(SpecJson.ParseSpec(TestSpecs.SpecJson(["true"]), "spec"), "pod1"));
    }

    [Fact]
    public void The_pod_files_are_bound_and_the_private_shm_becomes_the_pods()
    {
        var spec = CriSpec();

        PodMounts.Apply(spec, Files, Shm);

        var mounts = spec.Mounts!.Select(Describe).ToList();
        Assert.Contains("/dev/shm bind /run/stencil/ephemeral/shm rbind,rprivate,nosuid,noexec,nodev", mounts);
        Assert.DoesNotContain(mounts, m => m.StartsWith("/dev/shm tmpfs", StringComparison.Ordinal));
        Assert.Equal([
            "/etc/hostname bind /run/stencil/pod/hostname rbind,rprivate,rw",
            "/etc/hosts bind /run/stencil/pod/hosts rbind,rprivate,rw",
            "/etc/resolv.conf bind /run/stencil/pod/resolv.conf rbind,rprivate,rw"], mounts[^3..]);
    }

    [Fact]
    public void A_mount_the_spec_has_at_a_pod_file_is_kept_and_a_read_only_root_gets_read_only_binds()
    {
        var spec = CriSpec();
        spec.Root!.Readonly = true;
        spec.Mounts!.Add(new Mount { Destination = "/etc/hosts", Type = "bind", Source = "/run/stencil/shared/hosts", Options = ["rbind", "rw"] });

        PodMounts.Apply(spec, Files, Shm);

        var mounts = spec.Mounts.Select(Describe).ToList();
        Assert.Equal(["/etc/hosts bind /run/stencil/shared/hosts rbind,rw"], mounts.Where(m => m.StartsWith("/etc/hosts", StringComparison.Ordinal)));
        Assert.Contains("/etc/hostname bind /run/stencil/pod/hostname rbind,rprivate,ro", mounts);
        Assert.Contains("/etc/resolv.conf bind /run/stencil/pod/resolv.conf rbind,rprivate,ro", mounts);
    }

    [Fact]
    public void A_shm_that_is_already_a_bind_is_left_alone()
    {
        var spec = CriSpec();
        var shm = spec.Mounts!.Single(m => m.Destination == "/dev/shm");
        shm.Type = "bind";
        shm.Source = "/run/stencil/containers/c1/mounts/3";
        shm.Options = ["rbind"];

        Assert.Null(PodMounts.PrivateShm(spec));
        PodMounts.Apply(spec, Files, podShm: null);

        Assert.Equal(["/dev/shm bind /run/stencil/containers/c1/mounts/3 rbind"], spec.Mounts!.Where(m => m.Destination == "/dev/shm").Select(Describe));
    }

    [Fact]
    public void The_pod_files_say_the_hostname_localhost_and_the_dns_settings()
    {
        Assert.Equal("web\n", PodFiles.HostnameText("web"));
        Assert.Equal("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tweb\n", PodFiles.HostsText("web"));
        Assert.Equal("search ns.svc cluster.local\nnameserver 10.0.0.10\noptions ndots:5\n",
            PodFiles.ResolvConfText(["10.0.0.10"], ["ns.svc", "cluster.local"], ["ndots:5"], "nameserver 1.1.1.1\n"));
        // No DNS settings: the guest's own file, or nothing.
        Assert.Equal("nameserver 1.1.1.1\n", PodFiles.ResolvConfText([], [], [], "nameserver 1.1.1.1\n"));
        Assert.Equal("", PodFiles.ResolvConfText([], [], [], null));
    }
}
