using System.Text;
using Stencil.Runtime.Configuration;
using Stencil.TestSupport;

namespace Stencil.Reliability.Fuzz.Targets;

/// <summary>
/// configuration.toml through <see cref="ConfigLoader.Parse"/> (Tomlyn's parser, then the schema's
/// checks) and, when it loads, every effective value read back. Bad input must end in a StencilException.
/// The shipped config/configuration.toml is the main seed.
/// </summary>
public sealed class TomlConfigTarget : IFuzzTarget
{
    public string Name => "toml";

    public IReadOnlyList<byte[]> Seeds { get; } =
    [
        File.ReadAllBytes(Path.Combine(RepoPaths.Root, "config", "configuration.toml")),
        .. Utf8Seeds.Of(
            """
            [hypervisor]
            default_vcpus = 2
            default_memory = 512
            kernel_params = "quiet loglevel=3"
            seccompsandbox = ""
            [factory]
            enable_template = true
            template_path = "/run/stencil/template"
            pool_size = 4
            [agent]
            dial_timeout = 30
            [runtime]
            state_dir = "/run/stencil"
            internetworking_model = "tcfilter"
            """,
            "hypervisor.default_vcpus = 1\nfactory = { pool_size = 0, enable_template = false }\n[runtime]\nenable_debug = true # comment\n",
            "[agent]\nenable_debug = false\n[runtime]\nstate_dir = '''/x'''\n[factory]\ntemplate_build_timeout = 0x10\n"),
    ];

    public IReadOnlyList<byte[]> Dictionary { get; } = Utf8Seeds.Of(
        "[", "]", "[[", "]]", "=", "\"", "'", "'''", "\"\"\"", "#", "\n", "\r\n", ".", ",", "{", "}", "\\", "\\u0000", "\\U0010FFFF", "\\uD800",
        "[hypervisor]", "[factory]", "[agent]", "[runtime]", "true", "false", "inf", "nan", "-0", "+1", "1979-05-27T07:32:00Z", "07:32:00",
        "0x7fffffffffffffff", "0o777", "0b1", "1_000", "1e1000", "9223372036854775808", "default_vcpus", "default_memory", "pool_size",
        "template_path", "daemon_socket", "shim_socket_dir", "msize_9p", "seccompsandbox", "guest_address_randomization", "= []", "= {}", "= [[]]");

    public void Run(byte[] input, Random? random)
    {
        // configuration.toml is read as text (File.ReadAllText): invalid UTF-8 becomes U+FFFD, as here.
        var config = ConfigLoader.Parse(Encoding.UTF8.GetString(input), "configuration.toml");
        _ = ConfigLoader.EffectiveValues(config);
    }

    public bool IsExpected(Exception exception) => exception is StencilException;
}
