using System.Diagnostics;
using System.Text;
using Stencil.TestSupport;

namespace Stencil.Guest.Tests;

/// <summary>
/// A QEMU process whose serial console (stdout) is read line by line and kept, so a test can wait
/// for a marker line and then look at everything before it. Disposing kills QEMU if it still runs.
/// </summary>
internal sealed class GuestVm : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Stopwatch _clock;
    private readonly Lock _lock = new();
    private readonly List<ConsoleLine> _lines = [];
    private readonly StringBuilder _stderr = new();
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    // Completed (and replaced) whenever a line arrives or the console closes.
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _consoleClosed;

    private GuestVm(Process process, Stopwatch clock)
    {
        _process = process;
        _clock = clock;
        _stdoutPump = PumpStdoutAsync();
        _stderrPump = PumpStderrAsync();
    }

    public static GuestVm Start(IReadOnlyList<string> arguments)
    {
        var qemu = Prerequisite.Executable("qemu-system-x86_64", "scripts/deps.sh");
        var start = new ProcessStartInfo(qemu)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);

        var clock = Stopwatch.StartNew();
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{qemu} did not start");
        // The serial port reads stdin: give it EOF rather than the test host's terminal.
        process.StandardInput.Close();
        return new GuestVm(process, clock);
    }

    public IReadOnlyList<ConsoleLine> Lines
    {
        get
        {
            lock (_lock)
                return [.. _lines];
        }
    }

    /// <summary>The first console line containing <paramref name="marker"/> (firmware output can precede it on the same line).</summary>
    public async Task<ConsoleLine> WaitForLineAsync(string marker, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                foreach (var line in _lines)
                {
                    if (line.Text.Contains(marker, StringComparison.Ordinal))
                        return line;
                }
                if (_consoleClosed)
                    throw new InvalidOperationException($"QEMU exited before the console printed '{marker}'.\n{Transcript()}");
                changed = _changed.Task;
            }
            try
            {
                await changed.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"no console line with '{marker}' within {timeout.TotalSeconds} s.\n{Transcript()}");
            }
        }
    }

    /// <summary>Waits for QEMU to exit by itself (the guest powers off) and for the console to be read to the end.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            await Task.WhenAll(_stdoutPump, _stderrPump).WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"QEMU still runs after {timeout.TotalSeconds} s.\n{Transcript()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
            await Task.WhenAll(_stdoutPump, _stderrPump).ConfigureAwait(false);
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>The console so far and QEMU's stderr, for failure messages.</summary>
    private string Transcript()
    {
        lock (_lock)
        {
            var text = new StringBuilder("--- guest console ---\n");
            foreach (var line in _lines)
                text.Append($"{line.At.TotalSeconds,7:F3} {line.Text}\n");
            text.Append("--- qemu stderr ---\n").Append(_stderr);
            return text.ToString();
        }
    }

    private async Task PumpStdoutAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } text)
            {
                lock (_lock)
                {
                    _lines.Add(new ConsoleLine(_clock.Elapsed, text));
                    Signal();
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                _consoleClosed = true;
                Signal();
            }
        }
    }

    private async Task PumpStderrAsync()
    {
        while (await _process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } text)
        {
            lock (_lock)
                _stderr.AppendLine(text);
        }
    }

    // Called under _lock: wake every waiter, and give later waiters a fresh task.
    private void Signal()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
