using System.Runtime.InteropServices;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Agent.Processes;

/// <summary>
/// Starts programs with posix_spawn (<see cref="Libc.PosixSpawn"/>). The child gets the given fds as
/// 0/1/2 (or /dev/null), default dispositions for every signal (the .NET runtime ignores SIGPIPE, and
/// an ignored signal would otherwise be inherited by the container), an empty signal mask, and its
/// own session. Every other fd of the agent is O_CLOEXEC, so nothing else leaks into the child.
/// The caller learns the exit through <see cref="Reaper"/>.
/// </summary>
internal static class Spawner
{
    /// <summary>The environment of helper programs (runtime CLI, ip): a plain PATH, nothing else.</summary>
    internal static readonly IReadOnlyList<string> DefaultEnvironment =
        ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"];

    /// <param name="argv">argv[0] included.</param>
    /// <param name="stdin">An fd to become the child's 0, or null for /dev/null (likewise stdout, stderr).</param>
    internal static int Spawn(string path, IReadOnlyList<string> argv, SafeHandle? stdin = null, SafeHandle? stdout = null,
        SafeHandle? stderr = null, IReadOnlyList<string>? environment = null, string? workingDirectory = null)
    {
        using var actions = new SpawnFileActions();
        AddStdio(actions, stdin, 0);
        AddStdio(actions, stdout, 1);
        AddStdio(actions, stderr, 2);
        if (workingDirectory is not null)
            actions.AddChdir(workingDirectory);
        using var attributes = new SpawnAttributes(newSession: true);
        var rc = Libc.PosixSpawn(path, argv, environment ?? DefaultEnvironment, actions, attributes, out var pid);
        if (rc != 0)
            throw Errno.Exception(rc, $"cannot run {path}");
        Reaper.Instance.ChildAdded();
        return pid;
    }

    private static void AddStdio(SpawnFileActions actions, SafeHandle? fd, int target)
    {
        if (fd is not null)
            actions.AddDup2(fd, target);
        else
            actions.AddOpen(target, "/dev/null", LibC.O_RDWR);
    }
}
