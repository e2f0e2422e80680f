using System.Runtime.InteropServices;
using System.Text;
using Stencil.Agent.Interop;

namespace Stencil.Agent.Processes;

/// <summary>
/// Starts programs with posix_spawn (glibc implements it with clone(CLONE_VM|CLONE_VFORK), safe in
/// a multi-threaded .NET process, unlike fork). The child gets the given fds as 0/1/2 (or
/// /dev/null), default dispositions for every signal (the .NET runtime ignores SIGPIPE, and an
/// ignored signal would otherwise be inherited by the container), an empty signal mask, and its own
/// session. Every other fd of the agent is O_CLOEXEC, so nothing else leaks into the child.
/// The caller learns the exit through <see cref="Reaper"/>.
/// </summary>
internal static unsafe class Spawner
{
    /// <summary>The environment of helper programs (runtime CLI, ip): a plain PATH, nothing else.</summary>
    internal static readonly IReadOnlyList<string> DefaultEnvironment =
        ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"];

    /// <param name="argv">argv[0] included.</param>
    /// <param name="stdin">An fd to become the child's 0, or -1 for /dev/null (likewise stdout, stderr).</param>
    internal static int Spawn(string path, IReadOnlyList<string> argv, int stdin = -1, int stdout = -1, int stderr = -1,
        IReadOnlyList<string>? environment = null, string? workingDirectory = null)
    {
        environment ??= DefaultEnvironment;
        var actions = NativeMemory.AllocZeroed(Libc.SpawnFileActionsSize);
        var attr = NativeMemory.AllocZeroed(Libc.SpawnAttrSize);
        var sigset = NativeMemory.AllocZeroed(Libc.SigSetSize);
        var strings = new List<nint>();
        try
        {
            Libc.SpawnFileActionsInit(actions);
            Libc.SpawnAttrInit(attr);
            AddStdio(actions, stdin, 0);
            AddStdio(actions, stdout, 1);
            AddStdio(actions, stderr, 2);
            if (workingDirectory is not null)
                Check(Libc.SpawnFileActionsAddChdir(actions, workingDirectory), "posix_spawn_file_actions_addchdir_np");

            Libc.SigFillSet(sigset);
            Check(Libc.SpawnAttrSetSigDefault(attr, sigset), "posix_spawnattr_setsigdefault");
            Libc.SigEmptySet(sigset);
            Check(Libc.SpawnAttrSetSigMask(attr, sigset), "posix_spawnattr_setsigmask");
            Check(Libc.SpawnAttrSetFlags(attr,
                (short)(Libc.POSIX_SPAWN_SETSIGDEF | Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSID)), "posix_spawnattr_setflags");

            var pathPtr = Utf8(path, strings);
            var argvPtr = StringArray(argv, strings);
            var envPtr = StringArray(environment, strings);
            int pid;
            var rc = Libc.PosixSpawn(&pid, pathPtr, actions, attr, argvPtr, envPtr);
            if (rc != 0)
                throw Errno.Exception(rc, $"cannot run {path}");
            Reaper.Instance.ChildAdded();
            return pid;
        }
        finally
        {
            Libc.SpawnFileActionsDestroy(actions);
            Libc.SpawnAttrDestroy(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
            NativeMemory.Free(sigset);
            foreach (var p in strings)
                NativeMemory.Free((void*)p);
        }
    }

    private static void AddStdio(void* actions, int fd, int target)
    {
        var rc = fd >= 0
            ? Libc.SpawnFileActionsAddDup2(actions, fd, target)
            : Libc.SpawnFileActionsAddOpen(actions, target, "/dev/null", Libc.O_RDWR, 0);
        Check(rc, "posix_spawn file action");
    }

    private static void Check(int rc, string what)
    {
        if (rc != 0)
            throw Errno.Exception(rc, what);
    }

    private static byte* Utf8(string s, List<nint> owned)
    {
        var count = Encoding.UTF8.GetByteCount(s);
        var p = (byte*)NativeMemory.Alloc((nuint)count + 1);
        owned.Add((nint)p);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, count));
        p[count] = 0;
        return p;
    }

    private static byte** StringArray(IReadOnlyList<string> items, List<nint> owned)
    {
        var array = (byte**)NativeMemory.Alloc((nuint)(items.Count + 1), (nuint)sizeof(byte*));
        owned.Add((nint)array);
        for (var i = 0; i < items.Count; i++)
            array[i] = Utf8(items[i], owned);
        array[items.Count] = null;
        return array;
    }
}
