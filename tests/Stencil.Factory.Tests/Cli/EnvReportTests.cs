using System.Text;
using Stencil.Cli;

namespace Stencil.Factory.Tests.Cli;

/// <summary>`stencil env`'s rendering (golden TOML and JSON) and the kernel banner reader (byte vectors).</summary>
[Trait("Category", "Unit")]
public sealed class EnvReportTests
{
    private static EnvReport Sample()
    {
        var report = new EnvReport();
        report.Section("Meta").Add(("Version", 1L));
        var config = report.Section("Config");
        config.Add(("Path", "/etc/stencil/configuration.toml"));
        config.Add(("Missing", null));
        report.Section("Config.factory").AddRange([("pool_size", 2L), ("enable_template", true)]);
        report.Section("Config.agent").Add(("dial_timeout", 45L));
        report.Section("Template").AddRange([("State", "say \"built\"\n\tnow\\"), ("BuildSeconds", 4.5)]);
        return report;
    }

    [Fact]
    public void Toml_has_a_table_per_section_escapes_strings_and_leaves_unknown_values_out()
    {
        Assert.Equal("""
            [Meta]
              Version = 1

            [Config]
              Path = "/etc/stencil/configuration.toml"

            [Config.factory]
              pool_size = 2
              enable_template = true

            [Config.agent]
              dial_timeout = 45

            [Template]
              State = "say \"built\"\n\tnow\\"
              BuildSeconds = 4.5

            """.Replace("\r", ""), Sample().ToToml());
        var model = Tomlyn.TomlSerializer.Deserialize<Tomlyn.Model.TomlTable>(Sample().ToToml())!;
        Assert.Equal("say \"built\"\n\tnow\\", ((Tomlyn.Model.TomlTable)model["Template"])["State"]);
    }

    [Fact]
    public void Json_nests_dotted_sections_under_their_parent_and_writes_unknown_values_as_null()
    {
        Assert.Equal("""
            {
              "Meta": {
                "Version": 1
              },
              "Config": {
                "Path": "/etc/stencil/configuration.toml",
                "Missing": null,
                "factory": {
                  "pool_size": 2,
                  "enable_template": true
                },
                "agent": {
                  "dial_timeout": 45
                }
              },
              "Template": {
                "State": "say \u0022built\u0022\n\tnow\\",
                "BuildSeconds": 4.5
              }
            }

            """.Replace("\r", ""), Sample().ToJson());
    }

    [Theory]
    [InlineData("Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org) (gcc-12)", "6.1.0-57-amd64")]
    [InlineData("Linux version %s (%s)\0Linux version 6.12.9 (x)", "6.12.9")]
    [InlineData("no banner here", null)]
    [InlineData("Linux version 6.1.0", null)]
    public void The_kernel_release_is_read_from_the_images_banner(string text, string? release)
    {
        var bytes = new byte[3000].Concat(Encoding.ASCII.GetBytes(text)).Concat(new byte[10]).ToArray();
        if (release is null && text.EndsWith("6.1.0", StringComparison.Ordinal))
            bytes = new byte[3000].Concat(Encoding.ASCII.GetBytes(text)).ToArray(); // cut at the end: no release
        Assert.Equal(release, GuestKernelImage.Release(new MemoryStream(bytes)));
    }

    [Fact]
    public void A_banner_across_two_reads_is_found()
    {
        // The reader takes 1 MiB at a time: put the banner across the first boundary.
        var bytes = new byte[(1 << 20) + 100];
        var banner = Encoding.ASCII.GetBytes("Linux version 6.1.0-57-amd64 (gcc)");
        banner.CopyTo(bytes, (1 << 20) - 20);
        Assert.Equal("6.1.0-57-amd64", GuestKernelImage.Release(new MemoryStream(bytes)));
    }
}
