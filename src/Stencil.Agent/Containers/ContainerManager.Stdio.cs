using System.Globalization;
using Stencil.Agent.Processes;

namespace Stencil.Agent.Containers;

/// <summary>How `create` and `exec` hand the new process its stdio, and how its pid comes back.</summary>
internal sealed partial class ContainerManager
{
    /// <summary>
    /// Runs `create` or `exec` with the process's stdio: pipes passed through the runtime to the
    /// process, or a console socket the runtime sends the terminal's master to. Returns the pid.
    /// </summary>
    private async Task<int> RunWithStdioAsync(IOciRuntime runtime, string what, string dir, bool terminal,
        Func<string?, Func<OciCommandLine, IReadOnlyList<string>>> command, string pidFile, Action<ProcessIo, IConsoleSocket?> onIo,
        CancellationToken cancellationToken)
    {
        var id = Path.GetFileName(dir);
        if (terminal)
        {
            var io = _syscalls.CreateTerminal();
            var console = _syscalls.OpenConsoleSocket();
            onIo(io, console);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var master = console.ReceiveMasterAsync(stop.Token);
            try
            {
                await runtime.RunAsync($"{what} {id}", command(console.Path), dir, null, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // The runtime failed: a master it may have sent is closed; the accept is given up.
                stop.Cancel();
                try
                {
                    _syscalls.Close(await master.ConfigureAwait(false));
                }
                catch (Exception ex) when (ex is OperationCanceledException or StencilException or System.Net.Sockets.SocketException)
                {
                }
                throw;
            }
            // The runtime has sent the master before it exits successfully.
            io.AttachTerminal(await master.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false));
        }
        else
        {
            var io = _syscalls.CreatePipes(out var child);
            onIo(io, null);
            try
            {
                await runtime.RunAsync($"{what} {id}", command(null), dir, child, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // The process holds its own copies now; ours would keep its stdout from ever ending.
                child.Close();
            }
        }
        var text = await _syscalls.ReadTextAsync(pidFile, cancellationToken).ConfigureAwait(false);
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
            throw StencilException.Internal($"{runtime.Name} wrote \"{text.Trim()}\" to {pidFile}, not a pid");
        return pid;
    }
}
