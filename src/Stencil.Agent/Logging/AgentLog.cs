using System.Text;

namespace Stencil.Agent.Logging;

/// <summary>
/// The agent's log: lines prefixed "stencil-agent:" go to /dev/kmsg in the guest (so they show in
/// dmesg, and on the console for errors), or to stderr when the agent runs outside a VM. Quiet by
/// default: debug lines are written only with `stencil.debug` on the kernel command line or
/// STENCIL_AGENT_DEBUG=1 in the environment.
/// </summary>
internal static class AgentLog
{
    private static readonly object s_lock = new();
    private static FileStream? s_kmsg;
    private static bool s_debug;

    internal static bool DebugEnabled => s_debug;

    internal static void Initialize(bool useKmsg, bool debug)
    {
        s_debug = debug;
        if (!useKmsg)
            return;
        try
        {
            s_kmsg = new FileStream("/dev/kmsg", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        }
        catch (IOException)
        {
            // No /dev/kmsg (not in a guest): stderr it is.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    internal static void Debug(string message)
    {
        if (s_debug)
            Write(7, message);
    }

    internal static void Info(string message) => Write(6, message);

    internal static void Warn(string message) => Write(4, message);

    internal static void Error(string message) => Write(3, message);

    private static void Write(int level, string message)
    {
        lock (s_lock)
        {
            if (s_kmsg is { } kmsg)
            {
                // One write() per record: /dev/kmsg takes "<level>text" and makes it one log line.
                try
                {
                    kmsg.Write(Encoding.UTF8.GetBytes($"<{level}>stencil-agent: {message}\n"));
                    return;
                }
                catch (IOException)
                {
                    // Rate-limited or closed: fall through to stderr.
                }
            }
            Console.Error.WriteLine($"stencil-agent: {message}");
        }
    }
}
