using Stencil.Runtime.Configuration;

namespace Stencil.Cli;

/// <summary>
/// The `stencil` tool. Exit codes: 0 done (check: every required piece is there), 1 failed (check:
/// something required is missing), 2 usage error, 130 interrupted.
/// </summary>
internal static class Cli
{
    public const string Usage =
        """
        usage: stencil [--config PATH] COMMAND

        commands:
          check                  what this host offers Stencil: QEMU, KVM or TCG, vhost-vsock, 9p, tmpfs,
                                 tc, the guest image, containerd's version (the one answering at
                                 $CONTAINERD_ADDRESS, default /run/containerd/containerd.sock, else the
                                 one on PATH); exits 1 when something required is missing
          env [--json]           the effective configuration (which file, every key and its value), the
                                 versions (stencil, its shim, the guest agent and kernel, QEMU, containerd),
                                 what the host offers and the template's state; TOML, or JSON
          factory init           build the VM template for the current configuration (if not built yet)
          factory init --rebuild build a new template even if the current one exists
          factory status         the templates: fingerprint, sizes, age, clones served
          factory destroy        remove every template and unmount the template tmpfs
                                 (VMs cloned from a template keep running)
          factory serve [--pool-size N]
                                 the node's factory daemon: keeps N (default [factory] pool_size)
                                 paused clones and hands them to shims over [factory] daemon_socket;
                                 metrics (Prometheus text) on the socket beside it; runs until
                                 SIGTERM or SIGINT
          factory metrics        the running daemon's metrics (Prometheus text)
          starts [--json]        the last pod starts on this host, newest first: where each spent its
                                 time (shim, VM and its source, storage, create, start), in ms

        options:
          --config PATH          the configuration.toml to use (default: $STENCIL_CONFIG, then
                                 /etc/stencil/configuration.toml, then the built-in defaults)

        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        CliCommand command;
        try
        {
            command = CliCommand.Parse(args);
        }
        catch (CliUsageException ex)
        {
            await stderr.WriteLineAsync($"stencil: {ex.Message}").ConfigureAwait(false);
            await stderr.WriteAsync(Usage).ConfigureAwait(false);
            return 2;
        }
        if (command.Verb == CliVerb.Help)
        {
            await stdout.WriteAsync(Usage).ConfigureAwait(false);
            return 0;
        }

        try
        {
            var config = Load(command.ConfigPath);
            var log = new ConsoleLog(stderr);
            return command.Verb switch
            {
                CliVerb.Check => await CheckCommand.RunAsync(config, stdout, cancellationToken).ConfigureAwait(false),
                CliVerb.FactoryInit => await FactoryCommands.InitAsync(config, command.Rebuild, stdout, log, cancellationToken).ConfigureAwait(false),
                CliVerb.FactoryStatus => await FactoryCommands.StatusAsync(config, stdout, log, cancellationToken).ConfigureAwait(false),
                CliVerb.FactoryDestroy => await FactoryCommands.DestroyAsync(config, stdout, log, cancellationToken).ConfigureAwait(false),
                CliVerb.FactoryServe => await FactoryServeCommand.ServeAsync(config, command.PoolSize, log, cancellationToken).ConfigureAwait(false),
                CliVerb.FactoryMetrics => await FactoryServeCommand.MetricsAsync(config, stdout, cancellationToken).ConfigureAwait(false),
                CliVerb.Starts => await StartsCommand.RunAsync(config, command.Json, stdout).ConfigureAwait(false),
                CliVerb.Env => await EnvCommand.RunAsync(config, command.Json, stdout, cancellationToken).ConfigureAwait(false),
                _ => throw new InvalidOperationException($"verb {command.Verb}"),
            };
        }
        catch (StencilException ex)
        {
            await stderr.WriteLineAsync($"stencil: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync("stencil: interrupted").ConfigureAwait(false);
            return 130;
        }
    }

    /// <summary>--config names a file that must exist; without it, the runtime's own search order.</summary>
    internal static LoadedConfig Load(string? configPath)
    {
        if (configPath is null)
            return ConfigLoader.Load(null);
        var path = Path.GetFullPath(configPath);
        if (!File.Exists(path))
            throw StencilException.NotFound($"configuration file {path} (from --config) does not exist");
        return new LoadedConfig(ConfigLoader.ReadFile(path), path);
    }

    internal static string Source(LoadedConfig config) => config.Source ?? "built-in defaults (no configuration file)";
}
