using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Stencil.Cri.Tests.Kubernetes;

/// <summary>
/// The Kubernetes manifests checked offline: every file is YAML, every object has the fields the API
/// server requires of its kind, and the pieces agree with each other (handler and containerd runtime
/// name, node labels, selectors, volumes, the image's paths, the script's settings).
/// </summary>
[Trait("Category", "Unit")]
public sealed partial class ManifestTests
{
    private static readonly Dictionary<string, string> s_apiVersions = new()
    {
        ["RuntimeClass"] = "node.k8s.io/v1",
        ["DaemonSet"] = "apps/v1",
        ["Pod"] = "v1",
    };

    private const string NodeLabel = "stencil.io/runtime";
    private const string ScriptInImage = "/opt/stencil-payload/stencil-deploy.sh";

    [Fact]
    public void Every_manifest_is_a_known_kind_with_its_api_version_and_a_valid_name()
    {
        var manifests = Manifest.LoadAll();
        Assert.Equal(
            ["DaemonSet stencil-cleanup", "DaemonSet stencil-deploy", "Pod stencil-hello", "RuntimeClass stencil", "RuntimeClass stencil-dense"],
            manifests.Select(m => $"{m.Kind} {m.Name}").Order(StringComparer.Ordinal));
        foreach (var manifest in manifests)
        {
            Assert.True(s_apiVersions.TryGetValue(manifest.Kind, out var apiVersion), $"{manifest.File}: unexpected kind {manifest.Kind}");
            Assert.Equal(apiVersion, manifest.Scalar("apiVersion"));
            Assert.Matches(DnsSubdomain(), manifest.Name);
        }
    }

    [Theory]
    [InlineData("stencil")]
    [InlineData("stencil-dense")]
    public void The_RuntimeClass_handler_is_the_containerd_runtime_the_installer_adds(string name)
    {
        var runtimeClass = Manifest.Single("RuntimeClass", name);
        var handler = runtimeClass.Scalar("handler");
        Assert.Equal(name, handler);
        var script = File.ReadAllText(Path.Combine(Manifest.Directory, "installer", "stencil-deploy.sh"));
        Assert.Contains(handler == "stencil" ? "containerd.runtimes.stencil'" : "[$1-dense]", script);
        Assert.Contains("runtime_type = \"io.containerd.stencil.v2\"", script);
        var snippet = File.ReadAllText(Path.Combine(RepoPathsRoot, "config", "containerd", "stencil-runtime.toml"));
        Assert.Contains($"[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.{handler}]", snippet);
        var snippetV3 = File.ReadAllText(Path.Combine(RepoPathsRoot, "config", "containerd", "stencil-runtime-v3.toml"));
        Assert.Contains("\nversion = 3\n", snippetV3);
        Assert.Contains($"[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.{handler}]", snippetV3);

        // Pods go only where the installer ran.
        // (Label keys contain dots: read the selector as a map, not through a dotted path.)
        Assert.Equal("true", Manifest.StringMap(runtimeClass.Mapping("scheduling.nodeSelector"))[NodeLabel]);
        foreach (var daemonSet in new[] { "stencil-deploy", "stencil-cleanup" })
            Assert.Equal("true", Manifest.StringMap(Manifest.Single("DaemonSet", daemonSet).Mapping("spec.template.spec.nodeSelector"))[NodeLabel]);
    }

    [Fact]
    public void The_pod_overhead_is_cpu_and_memory_quantities_that_say_where_they_were_measured()
    {
        foreach (var name in new[] { "stencil", "stencil-dense" })
        {
            var podFixed = Manifest.Single("RuntimeClass", name).Mapping("overhead.podFixed");
            Assert.Equal(["cpu", "memory"], Manifest.StringMap(podFixed).Keys.Order(StringComparer.Ordinal));
            foreach (var (resource, value) in Manifest.StringMap(podFixed))
                Assert.Matches(Quantity(), value);
        }
        // Each number carries the note saying which measurement it comes from (the dense class's cpu refers to the first's).
        var lines = File.ReadAllLines(Path.Combine(Manifest.Directory, "runtimeclass.yaml"));
        var memoryLines = Enumerable.Range(0, lines.Length).Where(i => lines[i].TrimStart().StartsWith("memory:", StringComparison.Ordinal)).ToList();
        var cpuLines = Enumerable.Range(0, lines.Length).Where(i => lines[i].TrimStart().StartsWith("cpu:", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, memoryLines.Count);
        Assert.Equal(2, cpuLines.Count);
        Assert.All(memoryLines, i => Assert.Contains("`make bench`", lines[i - 1]));
        Assert.Contains("`make bench`", lines[cpuLines[0] - 1]);
        // The dense preset needs less than the default.
        static double MiB(string quantity) => double.Parse(quantity.TrimEnd('i', 'M'), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(MiB(Manifest.StringMap(Manifest.Single("RuntimeClass", "stencil-dense").Mapping("overhead.podFixed"))["memory"])
            < MiB(Manifest.StringMap(Manifest.Single("RuntimeClass", "stencil").Mapping("overhead.podFixed"))["memory"]));
    }

    [Theory]
    [InlineData("stencil-deploy", "install")]
    [InlineData("stencil-cleanup", "cleanup")]
    public void The_node_DaemonSets_are_consistent_privileged_host_pid_pods_running_the_script(string name, string verb)
    {
        var daemonSet = Manifest.Single("DaemonSet", name);
        Assert.Equal("kube-system", daemonSet.Scalar("metadata.namespace"));
        var selector = Manifest.StringMap(daemonSet.Mapping("spec.selector.matchLabels"));
        var labels = Manifest.StringMap(daemonSet.Mapping("spec.template.metadata.labels"));
        Assert.NotEmpty(selector);
        Assert.All(selector, pair => Assert.Equal(pair.Value, labels.GetValueOrDefault(pair.Key)));

        var pod = daemonSet.Mapping("spec.template.spec");
        Assert.Equal("true", daemonSet.Scalar("spec.template.spec.hostPID"));
        var container = Assert.Single(daemonSet.Sequence("spec.template.spec.containers"));
        Assert.Equal("true", ((YamlScalarNode)((YamlMappingNode)container)["securityContext"]["privileged"]).Value);
        Assert.Matches(DnsLabel(), Manifest.Scalar(container, "name"));
        Assert.False(string.IsNullOrEmpty(Manifest.Scalar(container, "image")));

        // The command is the script at the path the Dockerfile copies it to, with the right verb.
        var command = ((YamlSequenceNode)((YamlMappingNode)container)["command"]).Children.Select(c => ((YamlScalarNode)c).Value).ToList();
        Assert.Equal([ScriptInImage, verb, "--wait"], command);
        var dockerfile = File.ReadAllText(Path.Combine(Manifest.Directory, "installer", "Dockerfile"));
        Assert.Contains($"config/kubernetes/installer/stencil-deploy.sh {ScriptInImage}", dockerfile);

        // Every mount names a volume; the host's / is mounted where HOST_ROOT says.
        var volumes = ((YamlSequenceNode)pod["volumes"]).Children.Select(v => Manifest.Scalar(v, "name")).ToHashSet();
        var mounts = ((YamlSequenceNode)((YamlMappingNode)container)["volumeMounts"]).Children.ToList();
        Assert.All(mounts, m => Assert.Contains(Manifest.Scalar(m, "name"), volumes));
        var env = ((YamlSequenceNode)((YamlMappingNode)container)["env"]).Children.ToDictionary(e => Manifest.Scalar(e, "name"), e => Manifest.Scalar(e, "value"));
        Assert.Contains(mounts, m => Manifest.Scalar(m, "mountPath") == env["HOST_ROOT"]);
        var hostRoot = ((YamlSequenceNode)pod["volumes"]).Children.Single(v => v is YamlMappingNode vm && vm.Children.ContainsKey(new YamlScalarNode("hostPath")));
        Assert.Equal("/", ((YamlScalarNode)hostRoot["hostPath"]["path"]).Value);

        // Only settings the script reads.
        var script = File.ReadAllText(Path.Combine(Manifest.Directory, "installer", "stencil-deploy.sh"));
        Assert.All(env.Keys, key => Assert.Contains($"{key}=${{{key}:-", script));
    }

    [Fact]
    public void The_example_pod_uses_the_RuntimeClass()
    {
        var pod = Manifest.Single("Pod", "stencil-hello");
        Assert.Equal(Manifest.Single("RuntimeClass", "stencil").Name, pod.Scalar("spec.runtimeClassName"));
        Assert.NotEmpty(pod.Sequence("spec.containers").Children);
    }

    [Fact]
    public void The_Dockerfile_copies_what_the_build_produces()
    {
        var dockerfile = File.ReadAllLines(Path.Combine(Manifest.Directory, "installer", "Dockerfile"));
        var sources = dockerfile.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal))
            .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1])
            .ToList();
        Assert.Equal(["build/bin/containerd-shim-stencil-v2", "build/bin/stencil", "config/systemd/stencil-factory.service", "build/guest/vmlinux", "build/guest/initrd",
            "config/configuration.toml", "config/configuration-dense.toml", "config/kubernetes/installer/stencil-deploy.sh"], sources);
        // Repository files exist; build outputs are named as the Makefile and build-guest.sh name them.
        Assert.True(File.Exists(Path.Combine(RepoPathsRoot, "config", "configuration.toml")));
        Assert.True(File.Exists(Path.Combine(RepoPathsRoot, "config", "configuration-dense.toml")));
        Assert.Contains("-o $(BIN)", File.ReadAllText(Path.Combine(RepoPathsRoot, "Makefile")));
        var buildGuest = File.ReadAllText(Path.Combine(RepoPathsRoot, "scripts", "build-guest.sh"));
        Assert.Contains("build/guest/vmlinux", buildGuest);
        Assert.Contains("build/guest/initrd", buildGuest);
    }

    private static string RepoPathsRoot => Stencil.TestSupport.RepoPaths.Root;

    /// <summary>Kubernetes resource quantities as used here: an integer or decimal with an optional suffix.</summary>
    [GeneratedRegex(@"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")]
    private static partial Regex Quantity();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
