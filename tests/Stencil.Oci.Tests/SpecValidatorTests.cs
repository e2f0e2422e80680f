using System.Text;
using Stencil.Oci;
using Stencil.Oci.Model;

namespace Stencil.Oci.Tests;

[Trait("Category", "Unit")]
public class SpecValidatorTests
{
    private static Spec Sample() => SpecJson.ParseSpec(Encoding.UTF8.GetBytes(SpecSamples.Ctr), "config.json");

    [Fact]
    public void A_good_spec_has_no_errors() => Assert.Empty(SpecValidator.Validate(Sample()));

    [Fact]
    public void Every_problem_is_reported_with_field_and_value()
    {
        var spec = Sample();
        spec.OciVersion = "0.9";
        spec.Process!.Args = [];
        spec.Process.Cwd = "relative";
        spec.Process.Env = ["NOEQUALS"];
        spec.Mounts![0].Destination = "proc";
        spec.Linux!.Namespaces!.Add(new Namespace { Type = "pid" });
        spec.Linux.Namespaces.Add(new Namespace { Type = "bogus" });
        spec.Linux.Devices![0].Type = "x";
        spec.Linux.Resources!.Memory!.Limit = -5;

        var errors = SpecValidator.Validate(spec);

        Assert.Contains("ociVersion \"0.9\" is not supported (need 1.x)", errors);
        Assert.Contains("process.args is empty: nothing to run", errors);
        Assert.Contains("process.cwd \"relative\" must be an absolute path", errors);
        Assert.Contains("process.env entry \"NOEQUALS\" is not NAME=VALUE", errors);
        Assert.Contains("mounts[0].destination \"proc\" must be an absolute path", errors);
        Assert.Contains("linux.namespaces[5]: namespace \"pid\" is listed twice", errors);
        Assert.Contains("linux.namespaces[6].type \"bogus\" is not a namespace type", errors);
        Assert.Contains("linux.devices[0].type \"x\" must be one of b, c, u, p", errors);
        Assert.Contains("linux.resources.memory.limit -5 must be positive (or -1 for none)", errors);
        Assert.Equal(9, errors.Count);
    }

    [Fact]
    public void Missing_root_and_process_are_named()
    {
        var errors = SpecValidator.Validate(new Spec { OciVersion = "1.0.2" });
        Assert.Equal(["root.path is missing", "process is missing"], errors);
        Assert.Equal(["root.path is missing"], SpecValidator.Validate(new Spec { OciVersion = "1.0.2" }, requireProcess: false));
    }

    [Fact]
    public void ThrowIfInvalid_joins_all_problems_into_one_invalid_argument()
    {
        var ex = Assert.Throws<StencilException>(() => SpecValidator.ThrowIfInvalid(new Spec(), "/b/config.json"));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal("/b/config.json: ociVersion is missing; root.path is missing; process is missing", ex.Message);
    }
}
