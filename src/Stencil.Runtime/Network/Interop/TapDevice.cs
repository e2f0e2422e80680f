using System.Text;
using Microsoft.Win32.SafeHandles;
using Stencil.Runtime.Interop;

namespace Stencil.Runtime.Network.Interop;

/// <summary>
/// Creates a tap inside a network namespace and returns its fd. setns changes only the calling
/// thread's namespace, so the work runs on a thread of its own that joins the pod's namespace, opens
/// /dev/net/tun, creates the tap with TUNSETIFF, goes back, and ends; the fd keeps pointing at the tap
/// in the pod's namespace wherever it is used afterwards (QEMU, after getfd).
/// </summary>
internal static unsafe class TapDevice
{
    /// <summary>IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, single queue: what QEMU's tap backend expects of an fd it
    /// is given (it probes IFF_VNET_HDR with TUNGETIFF and then uses offloads through the vnet header).</summary>
    public const short Flags = NetLibc.IFF_TAP | NetLibc.IFF_NO_PI | NetLibc.IFF_VNET_HDR;

    public static Task<SafeFileHandle> CreateInNamespaceAsync(string networkNamespacePath, string tapName)
    {
        ValidateName(tapName);
        var result = new TaskCompletionSource<SafeFileHandle>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                result.SetResult(CreateOnThisThread(networkNamespacePath, tapName));
            }
            catch (Exception ex)
            {
                result.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "stencil-tap-netns",
        };
        thread.Start();
        return result.Task;
    }

    /// <summary>The flags the tap behind <paramref name="fd"/> was created with (TUNGETIFF).</summary>
    public static short GetFlags(SafeFileHandle fd)
    {
        var ifreq = stackalloc byte[NetLibc.IfreqSize];
        new Span<byte>(ifreq, NetLibc.IfreqSize).Clear();
        var added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            if (NetLibc.Ioctl((int)fd.DangerousGetHandle(), NetLibc.TUNGETIFF, ifreq) != 0)
                throw Errno.Exception(System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), "TUNGETIFF");
            return *(short*)(ifreq + NetLibc.IfNameSize);
        }
        finally
        {
            if (added)
                fd.DangerousRelease();
        }
    }

    internal static void ValidateName(string tapName)
    {
        if (string.IsNullOrEmpty(tapName) || Encoding.ASCII.GetByteCount(tapName) >= NetLibc.IfNameSize
            || tapName.Any(c => c is '/' or ':' || char.IsWhiteSpace(c) || c > 0x7e) || tapName is "." or "..")
            throw StencilException.InvalidArgument($"tap name \"{tapName}\": expected 1 to 15 ASCII characters without '/', ':' or spaces");
    }

    private static SafeFileHandle CreateOnThisThread(string networkNamespacePath, string tapName)
    {
        var original = OpenOrThrow("/proc/thread-self/ns/net", NetLibc.O_RDONLY, "this thread's network namespace");
        try
        {
            var target = OpenOrThrow(networkNamespacePath, NetLibc.O_RDONLY, "network namespace");
            try
            {
                if (NetLibc.SetNs(target, NetLibc.CLONE_NEWNET) != 0)
                    throw Errno.Exception(System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), $"joining network namespace {networkNamespacePath}");
            }
            finally
            {
                NetLibc.Close(target);
            }
            try
            {
                return OpenTap(tapName, networkNamespacePath);
            }
            finally
            {
                // Going back is tidiness, not safety: this thread ends right after (continuations never run
                // inline on it), so a failure here cannot leave other work in the pod's namespace.
                _ = NetLibc.SetNs(original, NetLibc.CLONE_NEWNET);
            }
        }
        finally
        {
            NetLibc.Close(original);
        }
    }

    private static SafeFileHandle OpenTap(string tapName, string networkNamespacePath)
    {
        var fd = OpenOrThrow("/dev/net/tun", NetLibc.O_RDWR, "the tun device");
        var handle = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        var ifreq = stackalloc byte[NetLibc.IfreqSize];
        var span = new Span<byte>(ifreq, NetLibc.IfreqSize);
        span.Clear();
        Encoding.ASCII.GetBytes(tapName, span[..NetLibc.IfNameSize]);
        *(short*)(ifreq + NetLibc.IfNameSize) = Flags;
        if (NetLibc.Ioctl(fd, NetLibc.TUNSETIFF, ifreq) != 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw Errno.Exception(errno, $"creating tap {tapName} in {networkNamespacePath} (TUNSETIFF)");
        }
        return handle;
    }

    private static int OpenOrThrow(string path, int flags, string what)
    {
        var fd = NetLibc.Open(path, flags | NetLibc.O_CLOEXEC);
        if (fd < 0)
            throw Errno.Exception(System.Runtime.InteropServices.Marshal.GetLastPInvokeError(), $"opening {what} {path}");
        return fd;
    }
}
