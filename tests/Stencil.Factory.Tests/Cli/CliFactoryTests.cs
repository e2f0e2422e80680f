using Stencil.Factory.Tests.Support;
using Stencil.Factory.Tests.Vm;
using Stencil.TestSupport;
using Xunit.Abstractions;

namespace Stencil.Factory.Tests.Cli;

/// <summary>`stencil check` and `stencil factory status|destroy` against the run's template folder and guest image.</summary>
[Collection(TemplateCollection.Name)]
public sealed class CliFactoryTests(TemplateFixture fixture, ITestOutputHelper output)
{
    private string WriteConfig(string name, string templatePath) =>
        new StencilConfigFile { UseGuestImage = true, TemplatePath = templatePath, StateDir = Path.Combine(fixture.Root, "state") }
            .WriteTo(Path.Combine(fixture.Root, name + ".toml"));

    [Fact]
    public async Task Check_passes_on_this_host_and_names_each_piece()
    {
        Prerequisite.Executable("tc", "apt-get install iproute2 (scripts/deps.sh)");
        Prerequisite.Executable("nft", "apt-get install nftables (scripts/deps.sh)");
        var (code, stdout, _) = await CliCommandTests.RunAsync("--config", WriteConfig("check", fixture.TemplatePath), "check");
        output.WriteLine(stdout);
        Assert.Equal(0, code);
        foreach (var name in new[] { "qemu", "accelerator", "vhost-vsock", "9p", "tmpfs", "tc", "nft", "mkfs.ext4", "guest kernel", "guest initrd", "containerd", "template" })
            Assert.Matches($"(?m)^(ok|warn) +{System.Text.RegularExpressions.Regex.Escape(name)} ", stdout);
        Assert.Matches("(?m)^ok +mkfs.ext4 +not needed \\(shared_fs = \"virtio-9p\"\\)$", stdout);
        Assert.Contains($"ok    tmpfs         {fixture.TemplatePath} is a tmpfs", stdout);
        Assert.EndsWith("all required checks passed\n", stdout);
    }

    [Fact]
    public async Task Check_names_the_version_of_the_containerd_that_answers_and_whether_it_is_supported()
    {
        // The published NativeAOT binary, as an administrator runs it, asking a private containerd.
        var stencil = ShimBinaries.RequireCli();
        await using var containerd = await PrivateContainerd.StartAsync();
        var run = await ChildProcess.RunAsync(stencil, ["--config", WriteConfig("check-containerd", fixture.TemplatePath), "check"], TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["CONTAINERD_ADDRESS"] = containerd.Address });
        output.WriteLine(run.Stdout);
        var version = containerd.Version ?? throw new InvalidOperationException("containerd --version named no version");
        Assert.Matches($@"(?m)^ok +containerd +supported: containerd {System.Text.RegularExpressions.Regex.Escape(version.ToString())}\b.*; running at {System.Text.RegularExpressions.Regex.Escape(containerd.Address)}$", run.Stdout);
        Assert.Contains(version.Major >= 2 ? "config version 3" : "config version 2", run.Stdout);
    }

    [Fact]
    public async Task Check_fails_when_the_guest_image_is_missing()
    {
        var config = Path.Combine(fixture.Root, "missing.toml");
        await File.WriteAllTextAsync(config, $"[hypervisor]\nkernel = \"/nonexistent/vmlinux\"\ninitrd = \"{GuestImage.Initrd}\"\n");
        var (code, stdout, _) = await CliCommandTests.RunAsync("--config", config, "check");
        Assert.Equal(1, code);
        Assert.Contains("FAIL  guest kernel  /nonexistent/vmlinux is missing", stdout);
        Assert.EndsWith("1 required check failed\n", stdout);
    }

    /// <summary>Issue 13: on a freshly booted node /run/stencil does not exist; init, status and destroy make what they need.</summary>
    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Init_status_and_destroy_work_where_the_state_folders_do_not_exist_yet()
    {
        // A short root: QEMU's socket paths under the template folder must stay within 107 bytes.
        var scratch = Directory.CreateTempSubdirectory("st-boot-").FullName;
        var run = Path.Combine(scratch, "run", "stencil");
        var config = new StencilConfigFile { UseGuestImage = true, TemplatePath = Path.Combine(run, "template"), StateDir = Path.Combine(run, "state") }
            .WriteTo(Path.Combine(fixture.Root, "fresh-boot.toml"));
        try
        {
            var (code, stdout, stderr) = await CliCommandTests.RunAsync("--config", config, "factory", "status");
            output.WriteLine(stdout + stderr);
            Assert.True(code == 0, $"factory status on a fresh boot exited {code}: {stderr}");
            (code, stdout, stderr) = await CliCommandTests.RunAsync("--config", config, "factory", "init");
            output.WriteLine(stdout + stderr);
            Assert.True(code == 0, $"factory init on a fresh boot exited {code}: {stderr}");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(run));
        }
        finally
        {
            var (code, stdout, stderr) = await CliCommandTests.RunAsync("--config", config, "factory", "destroy");
            output.WriteLine(stdout + stderr);
            Directory.Delete(scratch, recursive: true);
            Assert.True(code == 0, $"factory destroy exited {code}: {stderr}");
        }
    }

    /// <summary>Issue 13: `stencil env` names the configuration file, every key with its value, the versions and the template's state.</summary>
    [Fact]
    public async Task Env_names_the_file_every_key_the_versions_and_the_template_as_toml_and_json()
    {
        var scratch = Directory.CreateTempSubdirectory("st-env-").FullName;
        var config = new StencilConfigFile { UseGuestImage = true, TemplatePath = Path.Combine(scratch, "tpl"), StateDir = Path.Combine(scratch, "state") }
            .WriteTo(Path.Combine(fixture.Root, "env.toml"));
        try
        {
            var (code, stdout, stderr) = await CliCommandTests.RunAsync("--config", config, "factory", "init");
            Assert.True(code == 0, $"factory init exited {code}: {stderr}");
            (code, stdout, stderr) = await CliCommandTests.RunAsync("--config", config, "env");
            output.WriteLine(stdout);
            Assert.True(code == 0, $"env exited {code}: {stderr}");

            var model = Tomlyn.TomlSerializer.Deserialize<Tomlyn.Model.TomlTable>(stdout)!;
            Tomlyn.Model.TomlTable Table(string name) => (Tomlyn.Model.TomlTable)model[name];
            Assert.Equal(config, Table("Config")["Path"]);
            var keys = Table("Config").Where(kv => kv.Value is Tomlyn.Model.TomlTable)
                .SelectMany(kv => ((Tomlyn.Model.TomlTable)kv.Value).Keys.Select(k => $"{kv.Key}.{k}"));
            Assert.Equal(Stencil.Runtime.Configuration.ConfigLoader.KnownKeys.Order(), keys.Order());
            Assert.Equal(Path.Combine(scratch, "tpl"), ((Tomlyn.Model.TomlTable)Table("Config")["factory"])["template_path"]);
            Assert.Matches(@"^\d+\.\d+", (string)Table("Hypervisor")["Version"]);
            Assert.Equal("built", Table("Template")["State"]);
            // The release in the image's banner is the one the template's guest reported, and its agent answered with a version.
            Assert.Equal(Table("Template")["GuestKernelRelease"], Table("Guest")["KernelRelease"]);
            Assert.False(string.IsNullOrEmpty((string)Table("Template")["AgentVersion"]));

            (code, stdout, stderr) = await CliCommandTests.RunAsync("--config", config, "env", "--json");
            Assert.True(code == 0, $"env --json exited {code}: {stderr}");
            using var json = System.Text.Json.JsonDocument.Parse(stdout);
            Assert.Equal(Path.Combine(scratch, "tpl"), json.RootElement.GetProperty("Config").GetProperty("factory").GetProperty("template_path").GetString());
            Assert.Equal("built", json.RootElement.GetProperty("Template").GetProperty("State").GetString());
        }
        finally
        {
            var (code, stdout, stderr) = await CliCommandTests.RunAsync("--config", config, "factory", "destroy");
            output.WriteLine(stdout + stderr);
            Directory.Delete(scratch, recursive: true);
            Assert.True(code == 0, $"factory destroy exited {code}: {stderr}");
        }
    }

    [Fact]
    public async Task Status_shows_fingerprint_sizes_age_and_clones_served()
    {
        var (code, stdout, _) = await CliCommandTests.RunAsync("--config", WriteConfig("status", fixture.TemplatePath), "factory", "status");
        output.WriteLine(stdout);
        Assert.Equal(0, code);
        Assert.Contains($"template path   {fixture.TemplatePath}: tmpfs mounted by stencil", stdout);
        // The tool's configuration maps to another VM size than the tests' description: the run's template is stale to it.
        Assert.Contains($"template {fixture.Template.Fingerprint} (stale", stdout);
        Assert.Contains("  memory file   256.0 MiB apparent, ", stdout);
        Assert.Matches(@"  state file    \d+\.\d KiB", stdout);
        Assert.Matches(@"  created       .* \(\d+(s|m\d\ds) ago\), built in \d+\.\d\d s", stdout);
        Assert.Matches(@"  clones served \d+", stdout);
    }

    [Fact]
    public async Task Destroy_removes_the_templates_and_unmounts_only_a_tmpfs_stencil_mounted()
    {
        var root = Path.Combine(fixture.Root, "cli-destroy");
        var config = WriteConfig("destroy", root);
        await using var factory = new VmFactory(fixture.Options with { TemplatePath = root }, NullLog.Instance);
        factory.Store.Tmpfs.EnsureMounted(fixture.Options.TemplateTmpfsBytes);
        int code;
        string stdout;
        try
        {
            Scratch.CopyTemplate(fixture.Template.Directory, root);
            (code, stdout, _) = await CliCommandTests.RunAsync("--config", config, "factory", "destroy");
        }
        finally
        {
            factory.Store.Tmpfs.UnmountIfOurs();
        }
        Assert.Equal(0, code);
        Assert.Equal($"removed 1 template(s) and 0 set-aside template(s) from {root}\nunmounted the template tmpfs at {root}; VMs cloned from it keep running\n", stdout);
        Assert.Empty(LeakCheck.MountsUnder(root));
        Assert.False(Directory.Exists(root));

        (code, stdout, _) = await CliCommandTests.RunAsync("--config", config, "factory", "destroy");
        Assert.Equal(0, code);
        Assert.Contains("no tmpfs of stencil's was mounted there", stdout);
        await LeakCheck.AssertCleanAsync(fixture.Root, fixture.TemplatePath);
    }
}
