using System.Collections;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Shim.Start;

/// <summary>
/// Starts the shim daemon the way containerd needs it: a new session (setsid, so containerd's signals
/// to its process group do not reach it), stdin/stdout/stderr on /dev/null (containerd reads `start`'s
/// output until EOF, so a child holding them open would block it), the listening socket at fd 3 and the
/// write end of a readiness pipe at fd 4. posix_spawn does all of that in the child before exec.
/// </summary>
internal static class DaemonLauncher
{
    public const int ListenerFd = 3;
    public const int ReadyFd = 4;

    /// <summary>What the daemon writes on fd 4 once it serves; anything else is its startup error.</summary>
    public const string ReadyMessage = "ok\n";

    /// <summary>The environment variable that tells the daemon when `start` ran.</summary>
    public const string ShimStartedAtVariable = "STENCIL_SHIM_STARTED_AT";

    /// <summary>Spawns <paramref name="argv"/>[0]; returns its pid and the read end of its readiness pipe.</summary>
    public static (int Pid, SafeFileHandle ReadyReader) Spawn(IReadOnlyList<string> argv, SafeHandle listener)
    {
        var (reader, writer) = Libc.Pipe2(LibC.O_CLOEXEC);
        try
        {
            using (writer)
            {
                // Copies at fds >= 10 so that placing them at 3 and 4 in the child can never overwrite one
                // with the other; all of the parent's fds are close-on-exec, so the child gets only these.
                using var listenerCopy = DupHigh(listener, "listener");
                using var writerCopy = DupHigh(writer, "readiness pipe");
                using var actions = new SpawnFileActions();
                actions.AddOpen(0, "/dev/null", LibC.O_RDONLY);
                actions.AddOpen(1, "/dev/null", LibC.O_WRONLY);
                actions.AddOpen(2, "/dev/null", LibC.O_WRONLY);
                actions.AddDup2(listenerCopy, ListenerFd);
                actions.AddDup2(writerCopy, ReadyFd);
                // The runtime blocks or ignores some signals (SIGPIPE is ignored); the daemon starts clean.
                using var attributes = new SpawnAttributes(newSession: true);
                var rc = Libc.PosixSpawn(argv[0], argv, Environment(), actions, attributes, out var pid);
                if (rc != 0)
                    throw Errno.Exception(rc, $"start the shim daemon {argv[0]}");
                return (pid, reader);
            }
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Waits for the daemon's word on the readiness pipe: null once it serves. Otherwise the daemon is
    /// reaped (killed first if it is still there) and the reason is returned: what it wrote, or how it
    /// ended, or that it stayed silent.
    /// </summary>
    public static string? WaitReady(SafeFileHandle reader, int pid, TimeSpan timeout)
    {
        var text = ReadUntilEof(reader, timeout, out var timedOut);
        if (text == ReadyMessage)
            return null;
        var ending = Reap(pid);
        if (text.Length > 0)
            return text.TrimEnd('\n');
        if (timedOut)
            return $"the shim daemon (pid {pid}) was not ready after {timeout.TotalSeconds:0} s";
        return $"the shim daemon (pid {pid}) exited before it was ready ({ending})";
    }

    /// <summary>Gives a failing daemon a moment to exit by itself, then kills it; returns how it ended.</summary>
    private static string Reap(int pid)
    {
        for (var i = 0; i < 100; i++)
        {
            if (Libc.WaitPid(pid, out var status, Libc.WNOHANG) == pid)
                return Describe(status);
            Thread.Sleep(10);
        }
        Libc.Kill(pid, LibC.SIGKILL); // still our unreaped child, so the pid cannot have been reused
        return Libc.WaitPid(pid, out var final, 0) == pid ? Describe(final) + ", after it hung" : "exit status unknown";
    }

    private static string Describe(int status)
    {
        var signal = status & 0x7f;
        return signal == 0 ? $"exit code {(status >> 8) & 0xff}" : $"killed by signal {signal}";
    }

    private static string ReadUntilEof(SafeFileHandle reader, TimeSpan timeout, out bool timedOut)
    {
        var deadline = System.Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var buffer = new byte[4096];
        var total = 0;
        timedOut = false;
        while (total < buffer.Length)
        {
            var remaining = deadline - System.Environment.TickCount64;
            if (remaining <= 0)
            {
                timedOut = true;
                break;
            }
            var ready = Libc.Poll(reader, LibC.POLLIN, (int)Math.Min(remaining, int.MaxValue), out _);
            if (ready < 0)
            {
                if (Errno.Last == LibC.EINTR)
                    continue;
                throw Errno.LastException("poll the shim daemon's readiness pipe");
            }
            if (ready == 0)
                continue;
            var n = Libc.Read(reader, buffer.AsSpan(total));
            if (n < 0)
            {
                if (Errno.Last == LibC.EINTR)
                    continue;
                throw Errno.LastException("read the shim daemon's readiness pipe");
            }
            if (n == 0)
                break; // EOF: the daemon closed it (ready, or it wrote its error and exited)
            total += (int)n;
        }
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    private static SafeFileHandle DupHigh(SafeHandle handle, string what)
    {
        var fd = Libc.Fcntl(handle, LibC.F_DUPFD_CLOEXEC, 10);
        if (fd < 0)
            throw Errno.LastException($"duplicate the {what} fd");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>The daemon's environment: this one's, and when this `start` began (the start of the pod's timeline).</summary>
    private static List<string> Environment()
    {
        var list = new List<string>();
        foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            if ((string)e.Key != ShimStartedAtVariable)
                list.Add($"{e.Key}={e.Value}");
        }
        var startedAt = new DateTimeOffset(System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime());
        list.Add($"{ShimStartedAtVariable}={startedAt.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        return list;
    }

    /// <summary>When `start` was run (unix milliseconds); unset or unreadable: not known.</summary>
    public static DateTimeOffset? ShimStartedAt() =>
        long.TryParse(System.Environment.GetEnvironmentVariable(ShimStartedAtVariable), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
}
