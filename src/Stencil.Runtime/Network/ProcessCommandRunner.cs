using System.ComponentModel;
using System.Diagnostics;

namespace Stencil.Runtime.Network;

/// <summary>Runs commands as child processes with stdin closed and both outputs captured; kills one that
/// outlives <see cref="Timeout"/> or whose caller cancels.</summary>
internal sealed class ProcessCommandRunner : ICommandRunner
{
    public static ProcessCommandRunner Instance { get; } = new();

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>When set, the child's whole environment ("NAME=value" each), as an OCI hook's env is; else the shim's.</summary>
    public IReadOnlyList<string>? Environment { get; init; }

    public Task<CommandOutput> RunAsync(string fileName, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        RunAsync(fileName, arguments, "", cancellationToken);

    public async Task<CommandOutput> RunAsync(string fileName, IReadOnlyList<string> arguments, string standardInput, CancellationToken cancellationToken)
    {
        var commandLine = CommandLine.Format(fileName, arguments);
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            startInfo.ArgumentList.Add(argument);
        if (Environment is { } environment)
        {
            startInfo.Environment.Clear();
            foreach (var pair in environment)
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                    startInfo.Environment[pair[..eq]] = pair[(eq + 1)..];
            }
        }
        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            throw StencilException.FailedPrecondition($"cannot run `{commandLine}`: {ex.Message}");
        }
        if (standardInput.Length > 0)
        {
            try
            {
                // Small inputs (a ruleset) fit the pipe's buffer; a program that exits without reading fails the write.
                await process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // It exited early; its exit code and stderr say why.
            }
        }
        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
        }
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited in the meantime.
            }
            cancellationToken.ThrowIfCancellationRequested();
            throw new StencilException(ErrorKind.DeadlineExceeded, $"`{commandLine}` did not finish within {Timeout.TotalSeconds:0.#} s");
        }
        return new CommandOutput(commandLine, process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
