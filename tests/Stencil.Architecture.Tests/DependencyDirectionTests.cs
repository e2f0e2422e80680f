using Stencil.TestSupport;

namespace Stencil.Architecture.Tests;

/// <summary>
/// The product's project references point down the layers of <see cref="LayerTable"/> only, never into
/// tests/, and every project under src/ and shim/ has a place in the table.
/// </summary>
[Trait("Category", "Unit")]
public sealed class DependencyDirectionTests
{
    private static readonly IReadOnlyList<ProductProject> s_projects = ProductProject.ReadAll(RepoPaths.Root);

    [Fact]
    public void Every_project_under_src_and_shim_references_only_projects_below_it()
    {
        var violations = s_projects.SelectMany(p => LayerTable.Violations(p, RepoPaths.Root)).ToList();
        Assert.True(violations.Count == 0, "project references that point the wrong way:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_projects_are_found_and_the_bottom_and_top_ones_are_among_them()
    {
        var names = s_projects.Select(p => p.Name).ToList();
        Assert.Contains("Stencil.Common", names);
        Assert.Contains("Stencil.Shim", names);
        Assert.Contains("Stencil.Agent", names);
        Assert.Empty(s_projects.Single(p => p.Name == "Stencil.Common").References);
    }

    [Fact]
    public void A_lower_project_referencing_a_higher_one_is_named_in_the_failure()
    {
        var common = new ProductProject("Stencil.Common", Path.Combine(RepoPaths.Root, "src/Stencil.Common/Stencil.Common.csproj"),
            [Path.Combine(RepoPaths.Root, "src/Stencil.Runtime/Stencil.Runtime.csproj")]);
        Assert.Equal(["Stencil.Common references Stencil.Runtime, which it may not (allowed: nothing)"], LayerTable.Violations(common, RepoPaths.Root));
    }

    [Fact]
    public void Side_by_side_projects_may_not_reference_each_other()
    {
        var oci = new ProductProject("Stencil.Oci", Path.Combine(RepoPaths.Root, "src/Stencil.Oci/Stencil.Oci.csproj"),
            [Path.Combine(RepoPaths.Root, "src/Stencil.Hypervisor/Stencil.Hypervisor.csproj")]);
        var violation = Assert.Single(LayerTable.Violations(oci, RepoPaths.Root));
        Assert.StartsWith("Stencil.Oci references Stencil.Hypervisor, which it may not", violation);
    }

    [Fact]
    public void The_guest_agent_may_not_reach_host_side_projects()
    {
        var agent = new ProductProject("Stencil.Agent", Path.Combine(RepoPaths.Root, "src/Stencil.Agent/Stencil.Agent.csproj"),
            [Path.Combine(RepoPaths.Root, "src/Stencil.Oci/Stencil.Oci.csproj"), Path.Combine(RepoPaths.Root, "src/Stencil.Agent.Client/Stencil.Agent.Client.csproj")]);
        var violation = Assert.Single(LayerTable.Violations(agent, RepoPaths.Root));
        Assert.StartsWith("Stencil.Agent references Stencil.Agent.Client, which it may not", violation);
    }

    [Fact]
    public void A_reference_into_tests_is_refused_even_from_the_top_project()
    {
        var shim = new ProductProject("Stencil.Shim", Path.Combine(RepoPaths.Root, "shim/Stencil.Shim/Stencil.Shim.csproj"),
            [Path.Combine(RepoPaths.Root, "tests/Stencil.TestSupport/Stencil.TestSupport.csproj")]);
        Assert.Equal(["Stencil.Shim references Stencil.TestSupport (tests/Stencil.TestSupport/Stencil.TestSupport.csproj), a test project: product code may not depend on tests/"],
            LayerTable.Violations(shim, RepoPaths.Root));
    }

    [Fact]
    public void A_project_missing_from_the_table_must_be_placed()
    {
        var stray = new ProductProject("Stencil.Stray", Path.Combine(RepoPaths.Root, "src/Stencil.Stray/Stencil.Stray.csproj"), []);
        Assert.Equal(["Stencil.Stray (src/Stencil.Stray/Stencil.Stray.csproj) is not in the layer table: place it in LayerTable.Allowed"],
            LayerTable.Violations(stray, RepoPaths.Root));
    }
}
