using Stencil.TestSupport;

namespace Stencil.Cri.Tests.Kubernetes;

/// <summary>
/// installer/stencil-deploy.sh against a scratch "host" folder (HOST_ROOT) with HOST_EXEC=none, so it
/// runs nothing on this machine: the files it installs, the containerd config block (added once,
/// replaced on upgrade, removed on cleanup leaving the rest as it was), and its refusals. Real
/// containerd then reads the config it wrote.
/// </summary>
public sealed class InstallerScriptTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-test-deploy-").FullName;

    public InstallerScriptTests()
    {
        Prerequisite.Executable("bash", "apt-get install bash");
        foreach (var (file, content) in new[] { ("bin/containerd-shim-stencil-v2", "#!/bin/sh\n"), ("bin/stencil", "#!/bin/sh\n"), ("share/vmlinux", "kernel"), ("share/initrd", "initrd") })
            Write(Path.Combine(Payload, file), content);
        Write(Path.Combine(Payload, "etc", "stencil-factory.service"), File.ReadAllText(Path.Combine(RepoPaths.Root, "config", "systemd", "stencil-factory.service")));
        foreach (var name in new[] { "configuration.toml", "configuration-dense.toml" })
            File.Copy(Path.Combine(RepoPaths.Root, "config", name), Path.Combine(Directory.CreateDirectory(Path.Combine(Payload, "etc")).FullName, name));
        Write(Host("/usr/bin/qemu-system-x86_64"), "");
        Write(Host("/usr/sbin/nft"), "");
    }

    private string Payload => Path.Combine(_dir, "payload");

    private string HostRoot => Path.Combine(_dir, "host");

    private string ConfigPath => Host("/etc/containerd/config.toml");

    private string Host(string path) => HostRoot + path;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Install_is_idempotent_and_cleanup_gives_the_config_back()
    {
        var original = "version = 2\nroot = \"/var/lib/containerd\"\n\n[plugins.\"io.containerd.grpc.v1.cri\"]\n  sandbox_image = \"registry.k8s.io/pause:3.6\"\n";
        Write(ConfigPath, original);

        var first = await RunAsync("install");
        Assert.Contains("added the stencil runtime", first.Stdout);
        Assert.Contains("not run on the host (HOST_EXEC=none): systemctl restart containerd", first.Stdout);
        var installed = File.ReadAllText(ConfigPath);
        Assert.StartsWith(original, installed);
        Assert.Contains("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.stencil]\n  runtime_type = \"io.containerd.stencil.v2\"\n", installed);
        Assert.Contains("ConfigPath = \"/opt/stencil/etc/configuration.toml\"", installed);
        // The dense preset: a second runtime of the same shim, its configuration based on the installed one.
        Assert.Contains("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.stencil-dense]\n  runtime_type = \"io.containerd.stencil.v2\"\n", installed);
        Assert.Contains("ConfigPath = \"/opt/stencil/etc/configuration-dense.toml\"", installed);
        var dense = File.ReadAllText(Host("/opt/stencil/etc/configuration-dense.toml"));
        Assert.Contains("\nbase = \"/opt/stencil/etc/configuration.toml\"\n", dense);
        Assert.Contains("\ntcg_translation_cache_mib = 16\n", dense);

        // The payload on the "host", the shim linked where containerd looks, the configuration's paths rewritten.
        Assert.Equal("#!/bin/sh\n", File.ReadAllText(Host("/opt/stencil/bin/containerd-shim-stencil-v2")));
        Assert.True(OperatingSystem.IsLinux() && File.GetUnixFileMode(Host("/opt/stencil/bin/containerd-shim-stencil-v2")).HasFlag(UnixFileMode.UserExecute));
        Assert.Equal("/opt/stencil/bin/containerd-shim-stencil-v2", new FileInfo(Host("/usr/local/bin/containerd-shim-stencil-v2")).LinkTarget);
        var configuration = File.ReadAllText(Host("/opt/stencil/etc/configuration.toml"));
        Assert.Contains("\nkernel = \"/opt/stencil/share/vmlinux\"\n", configuration);
        Assert.Contains("\ninitrd = \"/opt/stencil/share/initrd\"\n", configuration);
        Assert.Contains("\npath = \"/usr/bin/qemu-system-x86_64\"\n", configuration);
        Assert.Contains("template_path = \"/run/stencil/template\"", configuration); // other sections untouched
        Assert.True(File.Exists(Host("/opt/stencil/.installed")));
        // The factory daemon: the tool, its unit pointed at the installed configuration, started.
        Assert.True(File.Exists(Host("/opt/stencil/bin/stencil")));
        Assert.Contains("\nExecStart=/opt/stencil/bin/stencil --config /opt/stencil/etc/configuration.toml factory serve\n", File.ReadAllText(Host("/etc/systemd/system/stencil-factory.service")));
        Assert.Contains("\nKillMode=process\n", File.ReadAllText(Host("/etc/systemd/system/stencil-factory.service")));
        Assert.Contains("systemctl enable stencil-factory.service && systemctl restart stencil-factory.service", first.Stdout);

        // Again: nothing changes, containerd is not restarted.
        var second = await RunAsync("install");
        Assert.Contains("already has the stencil runtime; containerd not restarted", second.Stdout);
        Assert.DoesNotContain("systemctl", second.Stdout);
        Assert.Equal(installed, File.ReadAllText(ConfigPath));

        var cleanup = await RunAsync("cleanup");
        Assert.Contains("removed the stencil runtime", cleanup.Stdout);
        Assert.Equal(original, File.ReadAllText(ConfigPath));
        Assert.False(Directory.Exists(Host("/opt/stencil")));
        Assert.False(File.Exists(Host("/etc/systemd/system/stencil-factory.service")));
        Assert.False(File.Exists(Host("/usr/local/bin/containerd-shim-stencil-v2")));
        Assert.False(File.Exists(ConfigPath + ".stencil-backup"));

        // Cleanup of a clean node does nothing and succeeds.
        var again = await RunAsync("cleanup");
        Assert.DoesNotContain("restarting", again.Stdout);
    }

    [Theory]
    [InlineData("1.6.20", "version = 2", "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.stencil]")]
    [InlineData("1.7.24", "version = 2", "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.stencil]")]
    [InlineData("2.1.9", "version = 3", "[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.stencil]")]
    public async Task Without_a_config_one_of_the_containerds_own_version_is_created_and_removed_again(string containerd, string version, string table)
    {
        await RunAsync("install", ("CONTAINERD_VERSION", containerd));
        var config = File.ReadAllText(ConfigPath);
        Assert.StartsWith(version + "\n\n# BEGIN stencil-deploy", config);
        Assert.Contains("\n" + table + "\n", config);
        await RunAsync("cleanup");
        Assert.False(File.Exists(ConfigPath));
    }

    [Theory]
    [InlineData("", "[plugins.cri.containerd.runtimes.stencil]")]
    [InlineData("version = 1\n", "[plugins.cri.containerd.runtimes.stencil]")]
    [InlineData("version = 3\n", "[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.stencil]")]
    public async Task The_table_follows_the_config_version(string header, string table)
    {
        Write(ConfigPath, header + "root = \"/var/lib/containerd\"\n[plugins.x]\n  version = 2\n");
        await RunAsync("install");
        Assert.Contains("\n" + table + "\n", File.ReadAllText(ConfigPath));
    }

    [Fact]
    public async Task SANDBOXER_shim_adds_the_sandbox_API_for_containerd_2_and_is_refused_for_1_x()
    {
        await RunAsync("install", ("CONTAINERD_VERSION", "2.1.9"), ("SANDBOXER", "shim"));
        Assert.Contains("  privileged_without_host_devices = true\n  sandboxer = \"shim\"\n", File.ReadAllText(ConfigPath));
        await RunAsync("cleanup");

        var old = await RunAsync("install", expectFailure: true, ("CONTAINERD_VERSION", "1.7.24"), ("SANDBOXER", "shim"));
        Assert.Contains("SANDBOXER=shim needs containerd 2.x", old.Stderr, StringComparison.Ordinal);
        var typo = await RunAsync("install", expectFailure: true, ("CONTAINERD_VERSION", "2.1.9"), ("SANDBOXER", "pause"));
        Assert.Contains("expected podsandbox or shim", typo.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(ConfigPath));
    }

    [Fact]
    public async Task An_upgrade_replaces_the_block_instead_of_adding_a_second()
    {
        Write(ConfigPath, "version = 2\n");
        await RunAsync("install");
        await RunAsync("install", ("INSTALL_DIR", "/opt/stencil-v2"));
        var config = File.ReadAllText(ConfigPath);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(config, "# BEGIN stencil-deploy"));
        Assert.Contains("ConfigPath = \"/opt/stencil-v2/etc/configuration.toml\"", config);
    }

    [Fact]
    public async Task A_stencil_runtime_defined_by_hand_a_disabled_CRI_plugin_no_QEMU_or_no_nft_is_refused()
    {
        Write(ConfigPath, "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.stencil]\n  runtime_type = \"io.containerd.stencil.v2\"\n");
        var byHand = await RunAsync("install", expectFailure: true);
        Assert.Contains("already defines a \"stencil\" or \"stencil-dense\" runtime outside stencil-deploy's block", byHand.Stderr);

        Write(ConfigPath, "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n");
        var disabled = await RunAsync("install", expectFailure: true);
        Assert.Contains("disables containerd's CRI plugin", disabled.Stderr);

        File.Delete(Host("/usr/bin/qemu-system-x86_64"));
        var noQemu = await RunAsync("install", expectFailure: true);
        Assert.Contains("QEMU is not installed on this node (/usr/bin/qemu-system-x86_64 is missing)", noQemu.Stderr);
        Assert.Contains("apt-get install qemu-system-x86", noQemu.Stderr);
        Write(Host("/usr/bin/qemu-system-x86_64"), "");

        File.Delete(Host("/usr/sbin/nft"));
        var noNft = await RunAsync("install", expectFailure: true);
        Assert.Contains("nftables is not installed on this node", noNft.Stderr);
        Assert.Contains("apt-get install nftables", noNft.Stderr);
        Assert.False(Directory.Exists(Host("/opt/stencil")), "a refused install left files behind");
    }

    [Fact]
    public async Task Containerd_reads_the_stencil_runtime_from_the_config_the_installer_wrote()
    {
        var containerd = Prerequisite.Executable("containerd", "make deps");
        var defaults = await ChildProcess.RunAsync(containerd, ["config", "default"], TimeSpan.FromSeconds(30));
        Write(ConfigPath, defaults.EnsureSuccess("containerd config default"));
        await RunAsync("install");
        var dump = await ChildProcess.RunAsync(containerd, ["--config", ConfigPath, "config", "dump"], TimeSpan.FromSeconds(30));
        // containerd 2.x quotes table names with ' where 1.x uses ".
        var text = dump.EnsureSuccess("containerd config dump").Replace('\'', '"');
        // containerd 1.x dumps a version 2 config, 2.x version 3 (whatever version the file had).
        var table = System.Text.RegularExpressions.Regex.IsMatch(text, "(?m)^version = 3$")
            ? "[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.stencil]"
            : "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.stencil]";
        Assert.Contains(table, text);
        var block = text[text.IndexOf(table, StringComparison.Ordinal)..];
        Assert.Contains("runtime_type = \"io.containerd.stencil.v2\"", block);
        Assert.Contains("pod_annotations = [\"io.stencil.*\"]", block);
        Assert.Contains("ConfigPath = \"/opt/stencil/etc/configuration.toml\"", block);
        var dense = table.Replace("runtimes.stencil]", "runtimes.stencil-dense]", StringComparison.Ordinal);
        Assert.Contains(dense, text);
        Assert.Contains("ConfigPath = \"/opt/stencil/etc/configuration-dense.toml\"", text[text.IndexOf(dense, StringComparison.Ordinal)..]);
    }

    private async Task<CommandResult> RunAsync(string verb, params (string Key, string Value)[] environment) =>
        await RunAsync(verb, expectFailure: false, environment);

    private async Task<CommandResult> RunAsync(string verb, bool expectFailure, params (string Key, string Value)[] environment)
    {
        var env = new Dictionary<string, string>
        {
            ["HOST_ROOT"] = HostRoot,
            ["HOST_EXEC"] = "none",
            ["PAYLOAD_DIR"] = Payload,
            ["CONFIG_OVERRIDE"] = Path.Combine(_dir, "no-override.toml"),
        };
        foreach (var (key, value) in environment)
            env[key] = value;
        var script = Path.Combine(RepoPaths.Root, "config", "kubernetes", "installer", "stencil-deploy.sh");
        var result = await ChildProcess.RunAsync("/bin/bash", [script, verb], TimeSpan.FromSeconds(60), env);
        if (expectFailure)
            Assert.True(result.ExitCode != 0, $"stencil-deploy.sh {verb} succeeded but should have failed:\n{result.Stdout}");
        else
            Assert.True(result.ExitCode == 0, $"stencil-deploy.sh {verb} exited {result.ExitCode}:\n{result.Stdout}\n{result.Stderr}");
        return result;
    }

    private static void Write(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }
}
