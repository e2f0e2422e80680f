using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using Stencil.Hypervisor.Internal;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Hypervisor;

/// <summary>
/// One QEMU process: started from an argv (no shell), its stdout and stderr kept in a bounded tail
/// for error messages, its exit observed as a task, SIGKILLed and reaped on dispose. Or one this
/// process did not start (<see cref="Adopt"/>: a clone the factory daemon handed over), watched and
/// killed through a pidfd; its parent (the daemon, or init) reaps it.
/// </summary>
public sealed class QemuProcess : IAsyncDisposable
{
    /// <summary>The exit code reported for an adopted process: only its parent can read the real one.</summary>
    public const int UnknownExitCode = -1;

    public const string DefaultBinary = "qemu-system-x86_64";
    public const int DefaultOutputTailBytes = 64 * 1024;

    /// <summary>
    /// After exit, how long to wait for the output pipes to reach EOF. A child QEMU spawned (an exec:
    /// migration helper) may hold them open; the exit must still be reported.
    /// </summary>
    private static readonly TimeSpan s_drainGrace = TimeSpan.FromMilliseconds(500);

    private readonly Process? _process;
    private readonly SafeFileHandle? _pidfd;
    private readonly OutputTail _output;
    private readonly Task _drain;
    private int _killed;
    private int _released;

    private QemuProcess(Process process, string binary, OutputTail output)
    {
        _process = process;
        _output = output;
        Binary = binary;
        Id = process.Id;
        _drain = Task.WhenAll(
            PumpAsync(process.StandardError.BaseStream, output),
            PumpAsync(process.StandardOutput.BaseStream, output));
        Exited = WaitForExitAsync();
    }

    private QemuProcess(int pid, SafeFileHandle pidfd, string binary)
    {
        _pidfd = pidfd;
        _output = new OutputTail(256);
        _output.Append("(an adopted QEMU: its output goes to the process that started it, the factory daemon)"u8);
        Binary = binary;
        Id = pid;
        _drain = Task.CompletedTask;
        Exited = Task.Factory.StartNew(WaitForPidfd, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public string Binary { get; }

    public int Id { get; }

    /// <summary>Completes with the exit code once QEMU has exited and been reaped (128+N when killed by signal N).</summary>
    public Task<int> Exited { get; }

    public bool HasExited => Exited.IsCompleted;

    /// <summary>True once <see cref="Kill"/> was called: an exit after it is expected, not a failure.</summary>
    public bool WasKilled => Volatile.Read(ref _killed) != 0;

    /// <summary>The last bytes QEMU wrote to stderr and stdout, as text.</summary>
    public string OutputTail => _output.Snapshot();

    /// <summary>Starts QEMU. stdin is /dev/null-like (closed at once).</summary>
    /// <param name="qemuBinary">QEMU's binary when <paramref name="binary"/> is a launcher that executes it (setpriv):
    /// the name messages give.</param>
    public static QemuProcess Start(string binary, IReadOnlyList<string> arguments, int outputTailBytes = DefaultOutputTailBytes, string? qemuBinary = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(binary);
        ArgumentNullException.ThrowIfNull(arguments);
        var startInfo = new ProcessStartInfo(binary)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
            startInfo.ArgumentList.Add(argument);

        Process process;
        try
        {
            process = Process.Start(startInfo)
                ?? throw StencilException.Internal($"starting {binary} returned no process");
        }
        catch (Win32Exception ex)
        {
            throw new StencilException(ErrorKind.NotFound, qemuBinary is null || qemuBinary == binary
                ? $"cannot start QEMU binary \"{binary}\": {ex.Message} (install qemu-system-x86, or set the QEMU path)"
                : $"cannot start \"{binary}\", which starts QEMU with bounded capabilities: {ex.Message} (install util-linux, or set [hypervisor] qemu_capabilities = \"all\")", ex);
        }

        // QEMU never reads stdin here; closing it means a stray read gets EOF instead of blocking.
        process.StandardInput.Close();
        return new QemuProcess(process, qemuBinary ?? binary, new OutputTail(outputTailBytes));
    }

    /// <summary>
    /// A QEMU this process did not start: another process (the factory daemon) started it and
    /// handed it over. Watched through a pidfd (readable when it exits), killed through it, never
    /// reaped here. <paramref name="expectedArgument"/> must be on its command line (its QMP socket
    /// path, say): it proves <paramref name="pid"/> was not reused by something else meanwhile.
    /// </summary>
    public static QemuProcess Adopt(int pid, string expectedArgument, string binary = DefaultBinary)
    {
        ArgumentException.ThrowIfNullOrEmpty(expectedArgument);
        var pidfd = Libc.PidfdOpen(pid);
        if (pidfd.IsInvalid)
        {
            var errno = Errno.Last;
            pidfd.Dispose();
            throw new StencilException(Errno.KindOf(errno) == ErrorKind.NotFound ? ErrorKind.Unavailable : Errno.KindOf(errno),
                Errno.Describe($"adopting qemu pid {pid}", errno));
        }
        // Checked after the pidfd is open: if the pid still shows this command line, the pidfd is that process.
        if (!QemuPidFile.CommandLineMentions(pid, expectedArgument))
        {
            pidfd.Dispose();
            throw StencilException.Unavailable($"adopting qemu pid {pid}: it is gone, or it is not the QEMU of {expectedArgument}");
        }
        return new QemuProcess(pid, pidfd, binary);
    }

    /// <summary>
    /// Gives the process away (the factory daemon handed it to a shim): dispose no longer kills it;
    /// it is still reaped here when it exits, as only its parent can.
    /// </summary>
    public void Release() => Interlocked.Exchange(ref _released, 1);

    /// <summary>"qemu exited with code 1: &lt;output tail&gt;", prefixed with what was being done.</summary>
    public StencilException ExitError(string? context = null, Exception? inner = null)
    {
        var code = Exited.IsCompletedSuccessfully && Exited.Result != UnknownExitCode
            ? Exited.Result.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : "unknown";
        var tail = OutputTail;
        var what = $"qemu exited with code {code}" + (tail.Length > 0 ? ": " + tail : " and printed nothing");
        return StencilException.Unavailable(context is null ? what : $"{context}: {what}", inner);
    }

    /// <summary>SIGKILL; safe to call at any time and more than once.</summary>
    public void Kill()
    {
        Interlocked.Exchange(ref _killed, 1);
        if (_pidfd is not null)
        {
            // ESRCH once it has exited: nothing to do.
            Libc.PidfdSendSignal(_pidfd, LibC.SIGKILL);
            return;
        }
        try
        {
            if (!_process!.HasExited)
                _process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
        catch (Win32Exception)
        {
            // ESRCH: already gone.
        }
    }

    /// <summary>Kills QEMU and waits until it has been reaped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _released) != 0)
        {
            // Someone else owns it now; the Process object stays alive to reap it when it exits.
            _ = Exited.ContinueWith(static (_, p) => ((Process)p!).Dispose(), _process, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }
        Kill();
        await Exited.ConfigureAwait(false);
        _process?.Dispose();
        _pidfd?.Dispose();
    }

    private int WaitForPidfd()
    {
        while (true)
        {
            var ready = Libc.Poll(_pidfd!, LibC.POLLIN, -1, out _);
            if (ready > 0 || (ready < 0 && Errno.Last != LibC.EINTR))
                return UnknownExitCode;
        }
    }

    private async Task<int> WaitForExitAsync()
    {
        var process = _process!;
        await process.WaitForExitAsync().ConfigureAwait(false);
        await Task.WhenAny(_drain, Task.Delay(s_drainGrace)).ConfigureAwait(false);
        return process.ExitCode;
    }

    private static async Task PumpAsync(Stream stream, OutputTail tail)
    {
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                tail.Append(buffer.AsSpan(0, read));
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The pipe broke: the process is gone; what was read is kept.
        }
    }
}
