using System.Text.RegularExpressions;
using Stencil.Runtime.Configuration;
using Stencil.TestSupport;

namespace Stencil.Shim.Tests;

[Trait("Category", "Unit")]
public sealed class ConfigLoaderTests
{
    private static string ShippedFile => Path.Combine(RepoPaths.Root, "config", "configuration.toml");

    [Fact]
    public void No_file_anywhere_gives_the_built_in_defaults()
    {
        var loaded = ConfigLoader.Load(null, null, "/nonexistent/stencil/configuration.toml");

        Assert.Null(loaded.Source);
        Assert.Equal(StencilConfig.Defaults, loaded.Config);
        Assert.Equal("/run/stencil", loaded.Config.Runtime.StateDir);
        Assert.Equal(1, loaded.Config.Hypervisor.DefaultVcpus);
        Assert.Equal("tcfilter", loaded.Config.Runtime.InternetworkingModel);
    }

    [Fact]
    public void The_shipped_file_holds_the_defaults()
    {
        Assert.Equal(StencilConfig.Defaults, ConfigLoader.ReadFile(ShippedFile));
    }

    [Fact]
    public void The_shipped_file_lists_every_key_once_and_uncommented()
    {
        var keys = new List<string>();
        var section = "";
        foreach (var line in File.ReadLines(ShippedFile))
        {
            var header = Regex.Match(line, @"^\[(\w+)\]\s*$");
            if (header.Success)
                section = header.Groups[1].Value;
            var key = Regex.Match(line, @"^(\w+)\s*=");
            if (key.Success)
                keys.Add($"{section}.{key.Groups[1].Value}");
        }

        Assert.Equal(ConfigLoader.KnownKeys, keys);
    }

    [Fact]
    public void Effective_values_name_every_key_and_read_back_into_the_same_configuration()
    {
        var config = ConfigLoader.Parse("""
            [hypervisor]
            default_vcpus = 2
            kernel_params = "debug"
            enable_vmgenid = false
            guest_address_randomization = "on"
            [factory]
            pool_size = 5
            [runtime]
            internetworking_model = "none"
            """, "test.toml");
        var values = ConfigLoader.EffectiveValues(config);

        Assert.Equal(ConfigLoader.KnownKeys, values.Select(v => $"{v.Section}.{v.Key}"));
        Assert.Contains(("hypervisor", "default_vcpus", (object)2L), values);
        Assert.Contains(("hypervisor", "enable_vmgenid", (object)false), values);
        Assert.Contains(("factory", "template_path", (object)"/run/stencil/template"), values);
        // Written out as TOML and read again, they give the same configuration.
        var toml = string.Join('\n', values.GroupBy(v => v.Section).Select(g =>
            $"[{g.Key}]\n" + string.Join('\n', g.Select(v => $"{v.Key} = {v.Value switch { string t => $"\"{t}\"", bool b => b ? "true" : "false", var o => o }}"))));
        Assert.Equal(config, ConfigLoader.Parse(toml, "again.toml"));
    }

    [Fact]
    public void Values_in_the_file_replace_the_defaults_and_only_those()
    {
        var config = ConfigLoader.Parse("""
            [hypervisor]
            default_vcpus = 2
            kernel_params = "debug"
            enable_vmgenid = false
            [runtime]
            state_dir = "/var/run/stencil2"
            internetworking_model = "none"
            """, "test.toml");

        Assert.Equal(2, config.Hypervisor.DefaultVcpus);
        Assert.Equal("debug", config.Hypervisor.KernelParams);
        Assert.False(config.Hypervisor.EnableVmgenid);
        Assert.Equal("/var/run/stencil2", config.Runtime.StateDir);
        Assert.Equal("none", config.Runtime.InternetworkingModel);
        Assert.Equal(StencilConfig.Defaults.Factory, config.Factory);
        Assert.Equal(StencilConfig.Defaults.Hypervisor.DefaultMemory, config.Hypervisor.DefaultMemory);
    }

    [Fact]
    public void Shared_fs_is_virtio_9p_unless_none_is_asked_for()
    {
        Assert.Equal("virtio-9p", StencilConfig.Defaults.Hypervisor.SharedFs);
        Assert.Equal(1024, StencilConfig.Defaults.Hypervisor.RootfsImageMiB);

        var config = ConfigLoader.Parse("[hypervisor]\nshared_fs = \"none\"\nrootfs_image_mib = 256\n", "c.toml");

        Assert.Equal(HypervisorConfig.SharedFsNone, config.Hypervisor.SharedFs);
        Assert.Equal(256, config.Hypervisor.RootfsImageMiB);
        Assert.Equal("virtio-9p", ConfigLoader.Parse("[hypervisor]\nshared_fs = \"virtio-9p\"\n", "c.toml").Hypervisor.SharedFs);
    }

    [Fact]
    public void An_unknown_key_names_file_key_value_and_the_known_keys()
    {
        var ex = Assert.Throws<StencilException>(() => ConfigLoader.Parse("[agent]\ndial_timout = 5\n", "/etc/stencil/configuration.toml"));

        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal("/etc/stencil/configuration.toml: unknown key agent.dial_timout = 5; the keys of [agent] are dial_timeout, enable_debug", ex.Message);
    }

    // Found by the fuzzer (tests/Stencil.Reliability): Tomlyn threw ArgumentOutOfRangeException, not a
    // TomlException, for a document that starts with a quoted key ending inside an escape.
    [Theory]
    [InlineData("\"\\u12")]
    [InlineData("\"\\U0010FFF")]
    [InlineData("\"agent]\nenable_debu\u0080 = far = ''\\U0010FFF")]
    public void A_document_the_TOML_parser_fails_on_is_InvalidArgument(string toml)
    {
        var ex = Assert.Throws<StencilException>(() => ConfigLoader.Parse(toml, "c.toml"));

        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.StartsWith("c.toml: not valid TOML", ex.Message);
    }

    [Fact]
    public void An_unknown_section_is_an_error()
    {
        var ex = Assert.Throws<StencilException>(() => ConfigLoader.Parse("[hypervisor.qemu]\npath = \"/x\"\n", "c.toml"));

        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains("c.toml: unknown key hypervisor.qemu", ex.Message);
    }

    [Fact]
    public void A_file_with_a_base_applies_its_keys_over_the_base_file()
    {
        var asked = new List<string>();
        var config = ConfigLoader.Parse("""
            base = "/etc/stencil/configuration.toml"
            [hypervisor]
            tcg_translation_cache_mib = 16
            """, "dense.toml", path =>
            {
                asked.Add(path);
                return ConfigLoader.Parse("[hypervisor]\ndefault_vcpus = 2\ntcg_translation_cache_mib = 24\n", path);
            });

        Assert.Equal(["/etc/stencil/configuration.toml"], asked);
        Assert.Equal(2, config.Hypervisor.DefaultVcpus); // from the base
        Assert.Equal(16, config.Hypervisor.TcgTranslationCacheMiB); // the file's own key wins
        Assert.Equal(StencilConfig.Defaults.Runtime, config.Runtime);
    }

    [Fact]
    public void A_base_must_be_an_absolute_path_and_cannot_have_a_base_of_its_own()
    {
        static StencilConfig Unused(string path) => throw new InvalidOperationException(path);
        var relative = Assert.Throws<StencilException>(() => ConfigLoader.Parse("base = \"configuration.toml\"\n", "d.toml", Unused));
        Assert.Equal("d.toml: base = \"configuration.toml\": expected the absolute path of another configuration file", relative.Message);
        var number = Assert.Throws<StencilException>(() => ConfigLoader.Parse("base = 3\n", "d.toml", Unused));
        Assert.Equal(ErrorKind.InvalidArgument, number.Kind);
        // Inside a base file (read with no base reader) a base is refused: one level, no chains, no cycles.
        var nested = Assert.Throws<StencilException>(() => ConfigLoader.Parse("base = \"/etc/stencil/other.toml\"\n", "/etc/stencil/configuration.toml"));
        Assert.Equal("/etc/stencil/configuration.toml: base = \"/etc/stencil/other.toml\": a base configuration cannot name a base of its own", nested.Message);
    }

    [Fact]
    public void A_missing_or_nested_base_file_is_named()
    {
        using var dir = new TempDir();
        var dense = Path.Combine(dir.Path, "dense.toml");
        File.WriteAllText(dense, $"base = \"{dir.Path}/missing.toml\"\n");
        var missing = Assert.Throws<StencilException>(() => ConfigLoader.ReadFile(dense));
        Assert.Equal(ErrorKind.NotFound, missing.Kind);
        Assert.StartsWith($"base configuration file {dir.Path}/missing.toml: ", missing.Message, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(dir.Path, "a.toml"), $"base = \"{dense}\"\n");
        File.WriteAllText(dense, $"base = \"{dir.Path}/a.toml\"\n");
        var cycle = Assert.Throws<StencilException>(() => ConfigLoader.ReadFile(dense));
        Assert.Contains("a base configuration cannot name a base of its own", cycle.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_shipped_dense_preset_is_the_shipped_defaults_with_a_16_MiB_TCG_buffer()
    {
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root, "config", "configuration-dense.toml"));
        var config = ConfigLoader.Parse(text, "configuration-dense.toml", path =>
        {
            Assert.Equal(ConfigLoader.SystemPath, path);
            return ConfigLoader.ReadFile(ShippedFile);
        });
        Assert.Equal(StencilConfig.Defaults with { Hypervisor = StencilConfig.Defaults.Hypervisor with { TcgTranslationCacheMiB = 16 } }, config);
    }

    [Fact]
    public void A_key_outside_any_section_is_an_error()
    {
        var ex = Assert.Throws<StencilException>(() => ConfigLoader.Parse("debug = true\n", "c.toml"));

        Assert.Equal("c.toml: unknown key debug = true outside any section; the sections are [hypervisor], [factory], [agent], [runtime], and the only key outside them is base", ex.Message);
    }

    [Theory]
    [InlineData("[hypervisor]\ndefault_vcpus = 0", "c.toml: hypervisor.default_vcpus = 0: must be between 1 and 256")]
    [InlineData("[hypervisor]\ndefault_vcpus = \"two\"", "c.toml: hypervisor.default_vcpus = \"two\": expected an integer")]
    [InlineData("[hypervisor]\ndefault_memory = 1.5", "c.toml: hypervisor.default_memory = 1.5: expected an integer")]
    [InlineData("[hypervisor]\nkernel = \"vmlinux\"", "c.toml: hypervisor.kernel = \"vmlinux\": must be an absolute path")]
    [InlineData("[hypervisor]\npath = \"\"", "c.toml: hypervisor.path = \"\": must not be empty")]
    [InlineData("[hypervisor]\nenable_vmgenid = \"yes\"", "c.toml: hypervisor.enable_vmgenid = \"yes\": expected true or false")]
    [InlineData("[factory]\npool_size = -1", "c.toml: factory.pool_size = -1: must be between 0 and 1024")]
    [InlineData("[hypervisor]\nguest_address_randomization = \"no\"",
        "c.toml: hypervisor.guest_address_randomization = \"no\": must be one of \"auto\", \"on\", \"off\"")]
    [InlineData("[hypervisor]\nseccompsandbox = \"on,spawn\"",
        "c.toml: hypervisor.seccompsandbox = \"on,spawn\": must be \"\" or QEMU -sandbox options: on or off, then name=value pairs (e.g. \"on,spawn=deny\")")]
    [InlineData("[runtime]\ninternetworking_model = \"macvtap\"", "c.toml: runtime.internetworking_model = \"macvtap\": must be one of \"tcfilter\", \"none\"")]
    [InlineData("[hypervisor]\nshared_fs = \"virtio-fs\"", "c.toml: hypervisor.shared_fs = \"virtio-fs\": must be one of \"virtio-9p\", \"none\"")]
    [InlineData("[hypervisor]\nrootfs_image_mib = 16", "c.toml: hypervisor.rootfs_image_mib = 16: must be between 64 and 1048576")]
    [InlineData("[runtime]\nshim_socket_dir = \"/a/very/long/folder/name/for/shim/sockets/x\"",
        "c.toml: runtime.shim_socket_dir = \"/a/very/long/folder/name/for/shim/sockets/x\": must be at most 42 bytes long (a socket path, this folder plus 65 bytes, must fit in 107)")]
    public void A_bad_value_names_file_key_value_and_the_rule(string toml, string message)
    {
        var ex = Assert.Throws<StencilException>(() => ConfigLoader.Parse(toml, "c.toml"));

        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Invalid_toml_names_the_file()
    {
        var ex = Assert.Throws<StencilException>(() => ConfigLoader.Parse("[hypervisor\npath = ", "/etc/x.toml"));

        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.StartsWith("/etc/x.toml: not valid TOML: ", ex.Message);
        Assert.DoesNotContain("\n", ex.Message);
    }

    [Fact]
    public void Search_order_is_option_then_environment_then_system_file()
    {
        static bool All(string _) => true;

        Assert.Equal("/opt/a.toml", ConfigLoader.Resolve("/opt/a.toml", "/env/b.toml", "/etc/c.toml", All));
        Assert.Equal("/env/b.toml", ConfigLoader.Resolve(null, "/env/b.toml", "/etc/c.toml", All));
        Assert.Equal("/env/b.toml", ConfigLoader.Resolve("", "/env/b.toml", "/etc/c.toml", All));
        Assert.Equal("/etc/c.toml", ConfigLoader.Resolve(null, null, "/etc/c.toml", All));
        Assert.Null(ConfigLoader.Resolve(null, "", "/etc/c.toml", _ => false));
    }

    [Fact]
    public void A_named_file_that_is_missing_is_an_error_not_a_fallback()
    {
        var fromOption = Assert.Throws<StencilException>(() => ConfigLoader.Resolve("/opt/missing.toml", null, "/etc/c.toml", p => p == "/etc/c.toml"));
        var fromEnv = Assert.Throws<StencilException>(() => ConfigLoader.Resolve(null, "/env/missing.toml", "/etc/c.toml", p => p == "/etc/c.toml"));
        var relative = Assert.Throws<StencilException>(() => ConfigLoader.Resolve("conf.toml", null, "/etc/c.toml", _ => true));

        Assert.Equal(ErrorKind.NotFound, fromOption.Kind);
        Assert.Equal("configuration file /opt/missing.toml (from the runtime options' config_path) does not exist", fromOption.Message);
        Assert.Equal("configuration file /env/missing.toml (from $STENCIL_CONFIG) does not exist", fromEnv.Message);
        Assert.Equal(ErrorKind.InvalidArgument, relative.Kind);
    }

    [Fact]
    public void Load_reads_the_file_the_search_order_picks()
    {
        using var dir = new TempDir();
        var option = dir.WriteFile("option.toml", "[agent]\ndial_timeout = 7\n");
        var env = dir.WriteFile("env.toml", "[agent]\ndial_timeout = 8\n");
        var system = dir.WriteFile("system.toml", "[agent]\ndial_timeout = 9\n");

        Assert.Equal(7, ConfigLoader.Load(option, env, system).Config.Agent.DialTimeout);
        Assert.Equal(8, ConfigLoader.Load(null, env, system).Config.Agent.DialTimeout);
        var fromSystem = ConfigLoader.Load(null, null, system);
        Assert.Equal(9, fromSystem.Config.Agent.DialTimeout);
        Assert.Equal(system, fromSystem.Source);
    }
}
