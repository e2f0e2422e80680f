namespace Stencil.Cli;

/// <param name="ConfigPath">--config PATH; null: $STENCIL_CONFIG, then /etc/stencil/configuration.toml, then the defaults.</param>
/// <param name="Rebuild">factory init --rebuild: build a new template even if the current one exists.</param>
/// <param name="PoolSize">factory serve --pool-size N: overrides [factory] pool_size.</param>
/// <param name="Json">starts --json, env --json: JSON instead of a table or TOML.</param>
internal sealed record CliCommand(CliVerb Verb, string? ConfigPath = null, bool Rebuild = false, int? PoolSize = null, bool Json = false)
{
    /// <summary>Pure: argv to a command, or a usage error naming what was wrong.</summary>
    public static CliCommand Parse(IReadOnlyList<string> args)
    {
        string? config = null;
        var rest = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a is "--config" or "-c")
            {
                if (i + 1 >= args.Count || args[i + 1].Length == 0)
                    throw new CliUsageException($"{a} needs a file: {a} /etc/stencil/configuration.toml");
                config = args[++i];
            }
            else if (a.StartsWith("--config=", StringComparison.Ordinal))
            {
                config = a["--config=".Length..];
                if (config.Length == 0)
                    throw new CliUsageException("--config= needs a file");
            }
            else if (a is "-h" or "--help" or "help")
            {
                return new CliCommand(CliVerb.Help);
            }
            else
            {
                rest.Add(a);
            }
        }

        return rest switch
        {
            [] => throw new CliUsageException("no command given"),
            ["check"] => new CliCommand(CliVerb.Check, config),
            ["starts"] => new CliCommand(CliVerb.Starts, config),
            ["starts", "--json"] => new CliCommand(CliVerb.Starts, config, Json: true),
            ["starts", ..] => throw new CliUsageException($"unexpected argument \"{rest[1]}\" after starts (known: --json)"),
            ["factory"] => throw new CliUsageException("factory needs a subcommand: init, status, destroy, serve or metrics"),
            ["factory", "serve"] => new CliCommand(CliVerb.FactoryServe, config),
            ["factory", "serve", "--pool-size", var n] => new CliCommand(CliVerb.FactoryServe, config, PoolSize: PoolSizeArgument(n)),
            ["factory", "serve", "--pool-size"] => throw new CliUsageException("--pool-size needs a number: --pool-size 2"),
            ["factory", "metrics"] => new CliCommand(CliVerb.FactoryMetrics, config),
            ["factory", "init"] => new CliCommand(CliVerb.FactoryInit, config),
            ["factory", "init", "--rebuild"] => new CliCommand(CliVerb.FactoryInit, config, Rebuild: true),
            ["factory", "status"] => new CliCommand(CliVerb.FactoryStatus, config),
            ["factory", "destroy"] => new CliCommand(CliVerb.FactoryDestroy, config),
            ["factory", var sub, ..] when sub is "init" or "status" or "destroy" or "serve" or "metrics" =>
                throw new CliUsageException($"unexpected argument \"{rest[2]}\" after factory {sub}"),
            ["factory", var sub, ..] => throw new CliUsageException($"unknown factory subcommand \"{sub}\" (known: init, status, destroy, serve, metrics)"),
            ["check", ..] => throw new CliUsageException($"unexpected argument \"{rest[1]}\" after check"),
            ["env"] => new CliCommand(CliVerb.Env, config),
            ["env", "--json"] => new CliCommand(CliVerb.Env, config, Json: true),
            ["env", ..] => throw new CliUsageException($"unexpected argument \"{rest[1]}\" after env (known: --json)"),
            [var other, ..] when other.StartsWith('-') => throw new CliUsageException($"unknown option \"{other}\""),
            [var other, ..] => throw new CliUsageException($"unknown command \"{other}\" (known: check, env, factory, starts)"),
        };
    }

    private static int PoolSizeArgument(string text) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 1024
            ? n
            : throw new CliUsageException($"--pool-size \"{text}\": must be a number from 1 to 1024");
}
