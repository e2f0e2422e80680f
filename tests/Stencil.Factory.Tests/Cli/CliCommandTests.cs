using Stencil.Cli;

namespace Stencil.Factory.Tests.Cli;

[Trait("Category", "Unit")]
public sealed class CliCommandTests
{
    [Theory]
    [InlineData("check", "Check", null, false)]
    [InlineData("factory init", "FactoryInit", null, false)]
    [InlineData("factory init --rebuild", "FactoryInit", null, true)]
    [InlineData("factory serve", "FactoryServe", null, false)]
    [InlineData("factory metrics", "FactoryMetrics", null, false)]
    [InlineData("--config /etc/x.toml factory status", "FactoryStatus", "/etc/x.toml", false)]
    [InlineData("factory destroy --config=/etc/y.toml", "FactoryDestroy", "/etc/y.toml", false)]
    [InlineData("-c rel.toml check", "Check", "rel.toml", false)]
    [InlineData("factory --help", "Help", null, false)]
    [InlineData("env", "Env", null, false)]
    public void Commands_parse(string line, string verb, string? config, bool rebuild) =>
        Assert.Equal(new CliCommand(Enum.Parse<CliVerb>(verb), config, rebuild), CliCommand.Parse(line.Split(' ')));

    [Fact]
    public void Env_takes_json() =>
        Assert.Equal(new CliCommand(CliVerb.Env, null, Json: true), CliCommand.Parse(["env", "--json"]));

    [Fact]
    public void Factory_serve_takes_a_pool_size() =>
        Assert.Equal(new CliCommand(CliVerb.FactoryServe, null, PoolSize: 3), CliCommand.Parse(["factory", "serve", "--pool-size", "3"]));

    [Theory]
    [InlineData("", "no command given")]
    [InlineData("factory", "factory needs a subcommand: init, status, destroy, serve or metrics")]
    [InlineData("factory frob", "unknown factory subcommand \"frob\" (known: init, status, destroy, serve, metrics)")]
    [InlineData("factory serve --pool-size 0", "--pool-size \"0\": must be a number from 1 to 1024")]
    [InlineData("factory serve --pool-size", "--pool-size needs a number: --pool-size 2")]
    [InlineData("factory metrics now", "unexpected argument \"now\" after factory metrics")]
    [InlineData("factory status now", "unexpected argument \"now\" after factory status")]
    [InlineData("check twice", "unexpected argument \"twice\" after check")]
    [InlineData("boot", "unknown command \"boot\" (known: check, env, factory, starts)")]
    [InlineData("env --toml", "unexpected argument \"--toml\" after env (known: --json)")]
    [InlineData("--verbose check", "unknown option \"--verbose\"")]
    [InlineData("check --config", "--config needs a file: --config /etc/stencil/configuration.toml")]
    public void Usage_errors_say_what_is_wrong(string line, string message)
    {
        var args = line.Length == 0 ? [] : line.Split(' ');
        Assert.Equal(message, Assert.Throws<CliUsageException>(() => CliCommand.Parse(args)).Message);
    }

    [Fact]
    public async Task A_usage_error_exits_2_with_the_usage_and_a_missing_config_exits_1()
    {
        var (code, stdout, stderr) = await RunAsync("factory");
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.StartsWith("stencil: factory needs a subcommand", stderr);
        Assert.Contains("usage: stencil [--config PATH] COMMAND", stderr);

        (code, _, stderr) = await RunAsync("--config", "/nonexistent/stencil.toml", "check");
        Assert.Equal(1, code);
        Assert.Equal("stencil: configuration file /nonexistent/stencil.toml (from --config) does not exist\n", stderr);

        (code, stdout, _) = await RunAsync("--help");
        Assert.Equal(0, code);
        Assert.Contains("factory destroy", stdout);
    }

    [Fact]
    public async Task Factory_metrics_without_a_daemon_says_so_and_names_the_socket()
    {
        var dir = Directory.CreateTempSubdirectory("st-metrics-").FullName;
        try
        {
            var config = Path.Combine(dir, "c.toml");
            await File.WriteAllTextAsync(config, $"[factory]\ndaemon_socket = \"{dir}/factory.sock\"\n");
            var metrics = Stencil.Factory.Daemon.FactoryDaemonOptions.DefaultMetricsSocket($"{dir}/factory.sock");

            var (code, _, stderr) = await RunAsync("--config", config, "factory", "metrics");
            Assert.Equal(1, code);
            Assert.Equal($"stencil: no factory daemon is running: its metrics socket {metrics} does not exist "
                + "(start one with `stencil factory serve`, or `systemctl start stencil-factory`)\n", stderr);

            // A socket nobody listens on, as a daemon that died leaves behind (bound, not listening: connect is refused).
            using var stale = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            stale.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(metrics));
            (code, _, stderr) = await RunAsync("--config", config, "factory", "metrics");
            Assert.Equal(1, code);
            Assert.Equal($"stencil: no factory daemon answered on {metrics}: nothing listens on it (a daemon that exited left it behind)\n", stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        var code = await Stencil.Cli.Cli.RunAsync(args, stdout, stderr, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
