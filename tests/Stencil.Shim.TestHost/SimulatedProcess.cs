using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Stencil.Runtime;
using Stencil.Runtime.Lifecycle;

namespace Stencil.Shim.TestHost;

/// <summary>
/// A process of <see cref="SimulatedPodRuntime"/>; nothing is executed. It still opens its stdout and
/// stderr FIFOs while it "runs" and closes them when it exits, because containerd's clients (ctr) wait
/// for EOF on them before they finish a task.
/// </summary>
internal sealed partial class SimulatedProcess(string what, StdioPaths stdio, IReadOnlyList<string> args)
{
    private static readonly TimeSpan s_openTimeout = TimeSpan.FromSeconds(10);
    private Task<SafeFileHandle?[]>? _io;

    public ProcessLifecycle Lifecycle { get; } = new(what);

    public StdioPaths Stdio { get; } = stdio;

    public uint Pid { get; private set; }

    /// <summary>"true" exits 0 and "false" exits 1 as soon as they start; anything else runs until killed.</summary>
    public uint? ExitsByItself { get; } = args.Count == 0 ? null : Path.GetFileName(args[0]) switch
    {
        "true" => 0u,
        "false" => 1u,
        _ => null,
    };

    public uint AssignPid(uint pid) => Pid = pid;

    public void OpenIo() =>
        _io ??= Task.Run(async () => new[] { await OpenWriterAsync(Stdio.Stdout), await OpenWriterAsync(Stdio.Stderr) });

    /// <summary>Closes the output FIFOs (once they are open): the reader sees EOF.</summary>
    public void CloseIo()
    {
        var io = _io;
        if (io is null)
            return;
        _ = io.ContinueWith(static t =>
        {
            foreach (var handle in t.Result)
                handle?.Dispose();
        }, TaskScheduler.Default);
    }

    /// <summary>
    /// Opens a FIFO for writing without blocking a thread: a non-blocking open fails with ENXIO until
    /// the reader is there, so it is retried for a while. Files that are not FIFOs open at once.
    /// </summary>
    private static async Task<SafeFileHandle?> OpenWriterAsync(string path)
    {
        const int ENXIO = 6;
        if (path.Length == 0)
            return null;
        var deadline = DateTime.UtcNow + s_openTimeout;
        while (true)
        {
            var fd = Open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0);
            if (fd >= 0)
                return new SafeFileHandle(fd, ownsHandle: true);
            if (Marshal.GetLastPInvokeError() != ENXIO || DateTime.UtcNow > deadline)
                return null;
            await Task.Delay(10).ConfigureAwait(false);
        }
    }

    private const int O_WRONLY = 0x1;
    private const int O_NONBLOCK = 0x800;
    private const int O_CLOEXEC = 0x80000;

    // A FIFO opened for writing without blocking: ENXIO until containerd (the reader) has it open.
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);
}
