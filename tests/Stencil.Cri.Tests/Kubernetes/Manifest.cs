using Stencil.TestSupport;
using YamlDotNet.RepresentationModel;

namespace Stencil.Cri.Tests.Kubernetes;

/// <summary>One YAML document of a file under config/kubernetes, with a dotted path lookup
/// ("spec.template.spec"; keys that contain dots, like labels, are read from a map instead).</summary>
internal sealed class Manifest(string file, YamlMappingNode root)
{
    public static string Directory => Path.Combine(RepoPaths.Root, "config", "kubernetes");

    public string File { get; } = file;

    public YamlMappingNode Root { get; } = root;

    public string Kind => Scalar("kind");

    public string Name => Scalar("metadata.name");

    /// <summary>Every document of every .yaml file under config/kubernetes; a document that is not a
    /// mapping fails here, naming the file.</summary>
    public static IReadOnlyList<Manifest> LoadAll()
    {
        var manifests = new List<Manifest>();
        foreach (var path in System.IO.Directory.GetFiles(Directory, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            using (var reader = new StringReader(System.IO.File.ReadAllText(path)))
                stream.Load(reader);
            var relative = Path.GetRelativePath(Directory, path);
            foreach (var document in stream.Documents)
            {
                Assert.True(document.RootNode is YamlMappingNode, $"{relative}: a document is not a mapping");
                manifests.Add(new Manifest(relative, (YamlMappingNode)document.RootNode));
            }
        }
        return manifests;
    }

    public static Manifest Single(string kind, string name) =>
        Assert.Single(LoadAll(), m => m.Kind == kind && m.Name == name);

    public YamlNode? Find(string path)
    {
        YamlNode node = Root;
        foreach (var key in path.Split('.'))
        {
            if (node is not YamlMappingNode mapping || !mapping.Children.TryGetValue(new YamlScalarNode(key), out var child))
                return null;
            node = child;
        }
        return node;
    }

    public YamlNode Node(string path) => Find(path) ?? throw new Xunit.Sdk.XunitException($"{File} ({Kind} {Root}): no {path}");

    public string Scalar(string path) => Node(path) is YamlScalarNode { Value: { } value }
        ? value
        : throw new Xunit.Sdk.XunitException($"{File}: {path} is not a scalar");

    public YamlMappingNode Mapping(string path) => Node(path) as YamlMappingNode
        ?? throw new Xunit.Sdk.XunitException($"{File}: {path} is not a mapping");

    public YamlSequenceNode Sequence(string path) => Node(path) as YamlSequenceNode
        ?? throw new Xunit.Sdk.XunitException($"{File}: {path} is not a sequence");

    public static string Scalar(YamlNode node, string key) =>
        node is YamlMappingNode mapping && mapping.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode { Value: { } text }
            ? text
            : throw new Xunit.Sdk.XunitException($"no scalar {key} in {node}");

    public static Dictionary<string, string> StringMap(YamlMappingNode mapping) =>
        mapping.Children.ToDictionary(e => ((YamlScalarNode)e.Key).Value!, e => ((YamlScalarNode)e.Value).Value!);
}
