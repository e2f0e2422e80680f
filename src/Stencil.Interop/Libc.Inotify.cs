using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>A watched file was modified.</summary>
    internal const uint IN_MODIFY = 0x2;

    // The inotify family is declared here: Tmds.LibC has none of it, and FileSystemWatcher does not
    // report changes to cgroup files (it watches folders, and merges the events it sees).

    /// <summary>inotify_init1(2): an invalid handle on failure.</summary>
    internal static SafeFileHandle InotifyInit1(int flags) => new(InotifyInit1Core(flags), ownsHandle: true);

    /// <summary>inotify_add_watch(2): the watch descriptor, or -1.</summary>
    internal static int InotifyAddWatch(SafeHandle inotify, string path, uint mask)
    {
        using var lease = new FdLease(inotify);
        return InotifyAddWatchCore(lease.Fd, path, mask);
    }

    /// <summary>inotify_rm_watch(2): 0, or -1.</summary>
    internal static int InotifyRmWatch(SafeHandle inotify, int watch)
    {
        using var lease = new FdLease(inotify);
        return InotifyRmWatchCore(lease.Fd, watch);
    }

    [LibraryImport(Lib, EntryPoint = "inotify_init1", SetLastError = true)]
    private static partial int InotifyInit1Core(int flags);

    [LibraryImport(Lib, EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int InotifyAddWatchCore(int fd, string path, uint mask);

    [LibraryImport(Lib, EntryPoint = "inotify_rm_watch", SetLastError = true)]
    private static partial int InotifyRmWatchCore(int fd, int watch);
}
