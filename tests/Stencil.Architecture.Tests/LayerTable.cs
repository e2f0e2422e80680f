namespace Stencil.Architecture.Tests;

/// <summary>
/// Which product project may reference which, written out project by project. The layers, bottom up:
/// Stencil.Common; Stencil.Interop; Stencil.Ttrpc; Stencil.Protocols; then Stencil.Oci,
/// Stencil.Agent.Client, Stencil.Containerd and Stencil.Hypervisor side by side; Stencil.Factory;
/// Stencil.Factory.Client and Stencil.Factory.Daemon side by side (the factory daemon's two ends: the
/// shim asks, `stencil factory serve` answers); Stencil.Runtime; Stencil.Shim.Service and Stencil.Cli side by side; Stencil.Shim on top. A project
/// may reference only projects of lower layers (not its side-by-side peers). The guest agent,
/// Stencil.Agent, runs in the VM and may reference only Common, Interop, Ttrpc, Protocols and Oci.
/// Spelled out rather than computed from the list of layers so that a change to the rules is a visible
/// edit of this table, and a new project fails until it is placed in it.
/// </summary>
public static class LayerTable
{
    private static readonly string[] s_belowTtrpc = ["Stencil.Common", "Stencil.Interop"];
    private static readonly string[] s_belowProtocols = [.. s_belowTtrpc, "Stencil.Ttrpc"];
    private static readonly string[] s_belowServices = [.. s_belowProtocols, "Stencil.Protocols"];
    private static readonly string[] s_belowFactory = [.. s_belowServices, "Stencil.Oci", "Stencil.Agent.Client", "Stencil.Containerd", "Stencil.Hypervisor"];
    private static readonly string[] s_belowFactoryEnds = [.. s_belowFactory, "Stencil.Factory"];
    private static readonly string[] s_belowRuntime = [.. s_belowFactoryEnds, "Stencil.Factory.Client"];
    private static readonly string[] s_belowHosts = [.. s_belowRuntime, "Stencil.Runtime"];

    /// <summary>Project name -> the projects it may reference.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlySet<string>> Allowed = new Dictionary<string, IReadOnlySet<string>>
    {
        ["Stencil.Common"] = Set(),
        ["Stencil.Interop"] = Set("Stencil.Common"),
        ["Stencil.Ttrpc"] = Set(s_belowTtrpc),
        ["Stencil.Protocols"] = Set(s_belowProtocols),
        ["Stencil.Oci"] = Set(s_belowServices),
        ["Stencil.Agent.Client"] = Set(s_belowServices),
        ["Stencil.Containerd"] = Set(s_belowServices),
        ["Stencil.Hypervisor"] = Set(s_belowServices),
        ["Stencil.Factory"] = Set(s_belowFactory),
        ["Stencil.Factory.Client"] = Set(s_belowFactoryEnds),
        ["Stencil.Factory.Daemon"] = Set(s_belowFactoryEnds),
        ["Stencil.Runtime"] = Set(s_belowRuntime),
        ["Stencil.Shim.Service"] = Set(s_belowHosts),
        ["Stencil.Cli"] = Set([.. s_belowHosts, "Stencil.Factory.Daemon"]),
        ["Stencil.Shim"] = Set([.. s_belowHosts, "Stencil.Shim.Service", "Stencil.Cli"]),
        ["Stencil.Agent"] = Set("Stencil.Common", "Stencil.Interop", "Stencil.Ttrpc", "Stencil.Protocols", "Stencil.Oci"),
    };

    /// <summary>
    /// What is wrong with <paramref name="project"/>'s references, one sentence each: a project not in
    /// the table, a reference into tests/, a reference the table does not allow.
    /// </summary>
    public static IReadOnlyList<string> Violations(ProductProject project, string repoRoot)
    {
        if (!Allowed.TryGetValue(project.Name, out var allowed))
            return [$"{project.Name} ({Relative(project.Path, repoRoot)}) is not in the layer table: place it in LayerTable.Allowed"];
        var found = new List<string>();
        var tests = Path.Combine(repoRoot, "tests") + "/";
        foreach (var reference in project.References)
        {
            var name = ProductProject.NameOf(reference);
            if (reference.StartsWith(tests, StringComparison.Ordinal))
                found.Add($"{project.Name} references {name} ({Relative(reference, repoRoot)}), a test project: product code may not depend on tests/");
            else if (!allowed.Contains(name))
                found.Add($"{project.Name} references {name}, which it may not (allowed: {(allowed.Count == 0 ? "nothing" : string.Join(", ", allowed.Order(StringComparer.Ordinal)))})");
        }
        return found;
    }

    private static string Relative(string path, string root) => Path.GetRelativePath(root, path);

    private static HashSet<string> Set(params string[] names) => new(names, StringComparer.Ordinal);
}
