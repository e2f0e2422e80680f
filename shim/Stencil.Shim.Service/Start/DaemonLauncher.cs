using System.Collections;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Stencil.Shim.Interop;

namespace Stencil.Shim.Start;

/// <summary>
/// Starts the shim daemon the way containerd needs it: a new session (setsid, so containerd's signals
/// to its process group do not reach it), stdin/stdout/stderr on /dev/null (containerd reads `start`'s
/// output until EOF, so a child holding them open would block it), the listening socket at fd 3 and the
/// write end of a readiness pipe at fd 4. posix_spawn does all of that in the child before exec.
/// </summary>
internal static unsafe class DaemonLauncher
{
    public const int ListenerFd = 3;
    public const int ReadyFd = 4;

    /// <summary>What the daemon writes on fd 4 once it serves; anything else is its startup error.</summary>
    public const string ReadyMessage = "ok\n";

    /// <summary>Spawns <paramref name="argv"/>[0]; returns its pid and the read end of its readiness pipe.</summary>
    public static (int Pid, SafeFileHandle ReadyReader) Spawn(IReadOnlyList<string> argv, SafeHandle listener)
    {
        int* pipe = stackalloc int[2];
        if (Libc.Pipe2(pipe, Libc.O_CLOEXEC) != 0)
            throw Errno.Last("pipe2");
        var reader = new SafeFileHandle(pipe[0], ownsHandle: true);
        using var writer = new SafeFileHandle(pipe[1], ownsHandle: true);

        // Copies at fds >= 10 so that placing them at 3 and 4 in the child can never overwrite one
        // with the other; all of the parent's fds are close-on-exec, so the child gets only these.
        using var listenerCopy = DupHigh(listener, "listener");
        using var writerCopy = DupHigh(writer, "readiness pipe");

        var fileActions = NativeMemory.AllocZeroed(Libc.SpawnFileActionsSize);
        var attr = NativeMemory.AllocZeroed(Libc.SpawnAttrSize);
        var sigset = NativeMemory.AllocZeroed(Libc.SigsetSize);
        var strings = new List<nint>();
        try
        {
            Check(Libc.PosixSpawnFileActionsInit(fileActions), "posix_spawn_file_actions_init");
            var devNull = Utf8("/dev/null", strings);
            Check(Libc.PosixSpawnFileActionsAddOpen(fileActions, 0, devNull, Libc.O_RDONLY, 0), "addopen stdin");
            Check(Libc.PosixSpawnFileActionsAddOpen(fileActions, 1, devNull, Libc.O_WRONLY, 0), "addopen stdout");
            Check(Libc.PosixSpawnFileActionsAddOpen(fileActions, 2, devNull, Libc.O_WRONLY, 0), "addopen stderr");
            Check(Libc.PosixSpawnFileActionsAddDup2(fileActions, (int)listenerCopy.DangerousGetHandle(), ListenerFd), "adddup2 listener");
            Check(Libc.PosixSpawnFileActionsAddDup2(fileActions, (int)writerCopy.DangerousGetHandle(), ReadyFd), "adddup2 readiness pipe");

            Check(Libc.PosixSpawnAttrInit(attr), "posix_spawnattr_init");
            // The runtime blocks or ignores some signals (SIGPIPE is ignored); the daemon starts clean.
            Libc.SigEmptySet(sigset);
            Check(Libc.PosixSpawnAttrSetSigMask(attr, sigset), "posix_spawnattr_setsigmask");
            Libc.SigFillSet(sigset);
            Check(Libc.PosixSpawnAttrSetSigDefault(attr, sigset), "posix_spawnattr_setsigdefault");
            Check(Libc.PosixSpawnAttrSetFlags(attr, (short)(Libc.POSIX_SPAWN_SETSID | Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSIGDEF)), "posix_spawnattr_setflags");

            var argvPtr = StringArray(argv, strings);
            var envPtr = StringArray(Environment(), strings);
            int pid;
            var rc = Libc.PosixSpawn(&pid, (byte*)argvPtr[0], fileActions, attr, argvPtr, envPtr);
            if (rc != 0)
                throw Errno.Exception(rc, $"start the shim daemon {argv[0]}");
            return (pid, reader);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
        finally
        {
            Libc.PosixSpawnFileActionsDestroy(fileActions);
            Libc.PosixSpawnAttrDestroy(attr);
            NativeMemory.Free(fileActions);
            NativeMemory.Free(attr);
            NativeMemory.Free(sigset);
            foreach (var p in strings)
                NativeMemory.Free((void*)p);
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
        int status;
        for (var i = 0; i < 100; i++)
        {
            if (Libc.WaitPid(pid, &status, Libc.WNOHANG) == pid)
                return Describe(status);
            Thread.Sleep(10);
        }
        Libc.Kill(pid, Libc.SIGKILL); // still our unreaped child, so the pid cannot have been reused
        return Libc.WaitPid(pid, &status, 0) == pid ? Describe(status) + ", after it hung" : "exit status unknown";
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
        var fd = (int)reader.DangerousGetHandle();
        timedOut = false;
        while (total < buffer.Length)
        {
            var remaining = deadline - System.Environment.TickCount64;
            if (remaining <= 0)
            {
                timedOut = true;
                break;
            }
            var pfd = new Libc.PollFd { Fd = fd, Events = Libc.POLLIN };
            var ready = Libc.Poll(&pfd, 1, (int)Math.Min(remaining, int.MaxValue));
            if (ready < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.EINTR)
                    continue;
                throw Errno.Last("poll the shim daemon's readiness pipe");
            }
            if (ready == 0)
                continue;
            nint n;
            fixed (byte* p = buffer)
                n = Libc.Read(fd, p + total, buffer.Length - total);
            if (n < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.EINTR)
                    continue;
                throw Errno.Last("read the shim daemon's readiness pipe");
            }
            if (n == 0)
                break; // EOF: the daemon closed it (ready, or it wrote its error and exited)
            total += (int)n;
        }
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    private static SafeFileHandle DupHigh(SafeHandle handle, string what)
    {
        var fd = Libc.Fcntl((int)handle.DangerousGetHandle(), Libc.F_DUPFD_CLOEXEC, 10);
        if (fd < 0)
            throw Errno.Last($"duplicate the {what} fd");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    private static List<string> Environment()
    {
        var list = new List<string>();
        foreach (DictionaryEntry e in System.Environment.GetEnvironmentVariables())
            list.Add($"{e.Key}={e.Value}");
        return list;
    }

    private static byte** StringArray(IReadOnlyList<string> values, List<nint> owned)
    {
        var array = (byte**)NativeMemory.AllocZeroed((nuint)(values.Count + 1), (nuint)sizeof(nint));
        owned.Add((nint)array);
        for (var i = 0; i < values.Count; i++)
            array[i] = Utf8(values[i], owned);
        return array;
    }

    private static byte* Utf8(string value, List<nint> owned)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        var p = (byte*)NativeMemory.Alloc((nuint)count + 1);
        owned.Add((nint)p);
        Encoding.UTF8.GetBytes(value, new Span<byte>(p, count));
        p[count] = 0;
        return p;
    }

    private static void Check(int rc, string what)
    {
        if (rc != 0)
            throw Errno.Exception(rc, what);
    }
}
