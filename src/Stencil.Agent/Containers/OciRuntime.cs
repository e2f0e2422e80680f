using System.Text;
using Stencil.Agent.Logging;
using Stencil.Agent.Processes;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Agent.Containers;

/// <summary>
/// Runs the in-guest OCI runtime's CLI (crun or runc) and turns a failure into a StencilException
/// carrying the runtime's own message.
/// </summary>
internal sealed class OciRuntime : IOciRuntime
{
    private static long s_callCounter;

    /// <param name="stateRoot">The runtime's --root; null: the agent's folder for it (tests give their own).</param>
    /// <param name="sealedCopy">A sealed copy of <paramref name="binary"/> to execute instead of it (<see cref="SealedBinary"/>).</param>
    internal OciRuntime(string name, string binary, string? stateRoot = null, SealedBinary? sealedCopy = null)
    {
        Name = name;
        Binary = binary;
        StateRoot = stateRoot ?? Path.Combine(GuestPaths.RuntimeStateRoot, name);
        _sealedCopy = sealedCopy;
    }

    private readonly SealedBinary? _sealedCopy;

    public string Name { get; }

    internal string Binary { get; }

    internal string StateRoot { get; }

    /// <summary>What is executed: the sealed copy when there is one, else <see cref="Binary"/> (argv[0] is always Binary).</summary>
    internal string ExecPath => _sealedCopy?.ExecPath ?? Binary;

    /// <summary>
    /// crun run from a sealed copy of its binary (<see cref="SealedBinary"/>), made now; itself if the
    /// copy cannot be made (then crun copies itself on every call, as before). Any other runtime as it is:
    /// runc 1.2 no longer copies itself, and a copy of its 10-15 MiB would only cost the template memory.
    /// </summary>
    internal OciRuntime WithSealedCopy()
    {
        if (_sealedCopy is not null || Name != "crun")
            return this;
        var copy = SealedBinary.TryCreate(Binary, out var whyNot);
        if (copy is null)
        {
            AgentLog.Warn($"{Name}: runs from {Binary} (it copies itself on every call): no sealed copy: {whyNot}");
            return this;
        }
        AgentLog.Debug($"{Name}: runs from a sealed copy of {Binary} ({copy.ExecPath})");
        return new OciRuntime(Name, Binary, StateRoot, copy);
    }

    /// <summary>
    /// The runtimes the guest ships, the default first: /usr/bin/oci-runtime (the image's choice)
    /// resolved to its target, then crun and runc wherever they are.
    /// </summary>
    internal static IReadOnlyList<OciRuntime> Discover()
    {
        var found = new List<OciRuntime>();
        void Add(string name, string path)
        {
            if (File.Exists(path) && !found.Exists(r => r.Name == name))
                found.Add(new OciRuntime(name, path));
        }
        var preferred = "/usr/bin/oci-runtime";
        if (File.Exists(preferred))
        {
            var target = new FileInfo(preferred).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? preferred;
            Add(Path.GetFileName(target) is "runc" ? "runc" : "crun", target);
        }
        foreach (var dir in new[] { "/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin", "/usr/local/sbin" })
        {
            Add("crun", Path.Combine(dir, "crun"));
            Add("runc", Path.Combine(dir, "runc"));
        }
        return found;
    }

    /// <summary>
    /// crun's `start` of a container with no poststart hooks (the agent keeps only createContainer and startContainer)
    /// and no notify socket (the agent never sets one) is: open STATE/ID/exec.fifo for writing, unlink
    /// it, write one byte; the container's init, blocked reading that FIFO since `create`, then execs
    /// the process. Under TCG a crun process costs 140-180 ms just to start, so the agent does those
    /// three steps itself. Opened non-blocking: no reader (the init is gone) fails with ENXIO instead of
    /// hanging, and crun's own `start` then gives the error. runc's FIFO works the other way round
    /// (`runc start` reads it), so runc always runs.
    /// </summary>
    public bool TryStartDirectly(string id)
    {
        if (Name != "crun")
            return false;
        var fifo = Path.Combine(StateRoot, id, "exec.fifo");
        using var fd = Libc.Open(fifo, LibC.O_WRONLY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
        if (fd.IsInvalid)
            return false;
        try
        {
            File.Delete(fifo);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        ReadOnlySpan<byte> zero = [0];
        return Libc.Write(fd, zero) == 1;
    }

    internal OciCommandLine CommandLine(string logPath) => new(Binary, StateRoot, logPath);

    /// <summary>
    /// Runs one runtime command. stdio: the fds to pass through (for create and exec without a
    /// terminal, the container's pipes), or null to capture the runtime's stdout and stderr.
    /// </summary>
    public async Task<OciResult> RunAsync(string what, Func<OciCommandLine, IReadOnlyList<string>> command, string logDir,
        ChildStdio? stdio, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(StateRoot);
        var logPath = Path.Combine(logDir, $"runtime-{Interlocked.Increment(ref s_callCounter)}.log");
        var argv = command(CommandLine(logPath));
        AgentLog.Debug(string.Join(' ', argv));
        var started = DateTime.UtcNow;
        ProcessIo? capture = null;
        ChildStdio fds;
        if (stdio is { } passThrough)
        {
            fds = passThrough;
        }
        else
        {
            capture = ProcessIo.CreatePipes(out fds);
            // The runtime never reads stdin here: close our end at once.
            await capture.CloseStdinAsync(cancellationToken).ConfigureAwait(false);
        }
        try
        {
            int pid;
            try
            {
                pid = Spawner.Spawn(ExecPath, argv, fds.Stdin, fds.Stdout, fds.Stderr);
            }
            finally
            {
                if (capture is not null)
                    fds.Close();
            }
            var exited = Reaper.Instance.WaitAsync(pid);
            var stdout = capture is null ? Task.FromResult("") : capture.ReadToEndAsync(stderr: false, CancellationToken.None);
            var stderr = capture is null ? Task.FromResult("") : capture.ReadToEndAsync(stderr: true, CancellationToken.None);
            var status = await exited.ConfigureAwait(false);
            var output = await stdout.ConfigureAwait(false);
            var errors = await stderr.ConfigureAwait(false);
            AgentLog.Debug($"{Name} {what}: exit {status.ExitCode} in {(DateTime.UtcNow - started).TotalMilliseconds:F0} ms");
            if (status.ExitCode != 0)
            {
                var message = ReadLogError(logPath) ?? FirstLine(errors) ?? $"exit code {status.ExitCode}";
                throw StencilException.Internal($"{Name} {what} failed: {message}");
            }
            return new OciResult(output);
        }
        finally
        {
            capture?.Dispose();
            TryDelete(logPath);
        }
    }

    private static string? ReadLogError(string path)
    {
        try
        {
            return OciLog.LastError(File.ReadAllBytes(path));
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string? FirstLine(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
            return null;
        var nl = trimmed.IndexOf('\n');
        return nl < 0 ? trimmed : trimmed[..nl];
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
