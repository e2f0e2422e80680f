using System.Diagnostics;

namespace Stencil.TestSupport;

/// <summary>
/// A child process whose output a test reads line by line while it runs (e.g. `ctr events`), or runs
/// to completion (<see cref="RunAsync"/>). Disposing kills it and waits for it.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly SemaphoreSlim _lineArrived = new(0);

    private ChildProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything printed on stdout so far.</summary>
    public IReadOnlyList<string> StdoutLines
    {
        get
        {
            lock (_stdout)
                return [.. _stdout];
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
                return string.Join('\n', _stderr);
        }
    }

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
                info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (child._stdout)
                child._stdout.Add(e.Data);
            child._lineArrived.Release();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (child._stderr)
                child._stderr.Add(e.Data);
        };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs a command to completion; kills it and throws TimeoutException after <paramref name="timeout"/>.</summary>
    public static async Task<CommandResult> RunAsync(
        string fileName, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var arguments_ = arguments.ToArray();
        await using var child = Start(fileName, arguments_, environment);
        try
        {
            await child._process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments_)} did not finish within {timeout}; stderr: {child.Stderr}");
        }
        // WaitForExitAsync returns once the output streams reached EOF, so the lists are complete.
        return new CommandResult(child._process.ExitCode, string.Join('\n', child.StdoutLines), child.Stderr);
    }

    /// <summary>The first stdout line (already printed or still to come) that matches, or a
    /// TimeoutException naming what was printed instead.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var line = StdoutLines.FirstOrDefault(match);
            if (line is not null)
                return line;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !await _lineArrived.WaitAsync(left))
                throw new TimeoutException($"no matching line within {timeout}; stdout:\n{string.Join('\n', StdoutLines)}\nstderr:\n{Stderr}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
        _process.Dispose();
        _lineArrived.Dispose();
    }
}
