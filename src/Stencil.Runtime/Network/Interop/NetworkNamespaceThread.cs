using Microsoft.Win32.SafeHandles;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Runtime.Network.Interop;

/// <summary>
/// Runs a piece of work inside another network namespace. setns changes only the calling thread's
/// namespace, so the work runs on a thread of its own that joins the namespace, works, goes back, and
/// ends. What the work creates there (a tap fd, a socket) belongs to that namespace wherever it is
/// used afterwards.
/// </summary>
internal static class NetworkNamespaceThread
{
    public static Task<T> RunAsync<T>(string networkNamespacePath, string threadName, Func<T> work)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                result.SetResult(RunOnThisThread(networkNamespacePath, work));
            }
            catch (Exception ex)
            {
                result.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = threadName,
        };
        thread.Start();
        return result.Task;
    }

    private static T RunOnThisThread<T>(string networkNamespacePath, Func<T> work)
    {
        using var original = Open("/proc/thread-self/ns/net", "this thread's network namespace");
        using (var target = Open(networkNamespacePath, "network namespace"))
        {
            if (Libc.SetNs(target, LibC.CLONE_NEWNET) != 0)
                throw Errno.LastException($"joining network namespace {networkNamespacePath}");
        }
        try
        {
            return work();
        }
        finally
        {
            // Going back is tidiness, not safety: this thread ends right after (continuations never run
            // inline on it), so a failure here cannot leave other work in the pod's namespace.
            _ = Libc.SetNs(original, LibC.CLONE_NEWNET);
        }
    }

    private static SafeFileHandle Open(string path, string what) =>
        Errno.Check(Libc.Open(path, LibC.O_RDONLY | LibC.O_CLOEXEC), $"opening {what} {path}");
}
