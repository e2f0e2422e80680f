namespace Stencil.Agent.Processes;

/// <summary>Runs a helper program to its end with its stdout and stderr captured (stdin is empty).</summary>
internal static class CapturedRun
{
    /// <summary>
    /// Spawns <paramref name="path"/> (argv[0] included in <paramref name="argv"/>) and waits for its
    /// exit and both streams' ends. <paramref name="cancellationToken"/> stops the reads only: the exit
    /// is always waited for (the reaper delivers it).
    /// </summary>
    internal static async Task<(ExitStatus Status, string Stdout, string Stderr)> RunAsync(string path, IReadOnlyList<string> argv,
        CancellationToken cancellationToken)
    {
        var io = ProcessIo.CreatePipes(out var child);
        try
        {
            int pid;
            try
            {
                pid = Spawner.Spawn(path, argv, child.Stdin, child.Stdout, child.Stderr);
            }
            finally
            {
                child.Close();
            }
            var exit = Reaper.Instance.WaitAsync(pid);
            var output = io.ReadToEndAsync(stderr: false, cancellationToken);
            var errors = io.ReadToEndAsync(stderr: true, cancellationToken);
            var status = await exit.ConfigureAwait(false);
            return (status, await output.ConfigureAwait(false), await errors.ConfigureAwait(false));
        }
        finally
        {
            io.Dispose();
        }
    }
}
