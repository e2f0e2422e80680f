using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Stencil.Interop;

/// <summary>
/// A host folder whose contents the guest can write (a pod's 9p share, what is mounted into it), held
/// open, and every path below it opened by the kernel beneath it: openat2(2) with RESOLVE_BENEATH and
/// RESOLVE_NO_MAGICLINKS (no "..", absolute path or /proc link leads out) and, unless a caller asks
/// otherwise, RESOLVE_NO_SYMLINKS (a link the guest planted fails the open instead of being followed,
/// at the last name too; where links are allowed, O_NOFOLLOW keeps the last name's), with O_CLOEXEC. The folder's own path is the host's (made by the runtime), so a
/// host symlink on the way to it, such as a pod's share pointing at a pooled clone's, is followed.
/// </summary>
/// <remarks>
/// The threat is Kata's: the guest kernel may be hostile and writes whatever it likes over 9p, at any
/// moment, including while the host works in the folder. So nothing here resolves a path twice (check,
/// then use): each step works on an fd and a single name, and a file the guest may have made is
/// checked after it is opened (fstat), not before. A kernel without openat2 (before 5.6) gets an error
/// that says so rather than a weaker walk.
/// </remarks>
internal sealed class ConfinedDirectory : IDisposable
{
    /// <summary>Folders nested deeper than this are not walked (a guest can nest without limit; each level holds an fd).</summary>
    internal const int MaxDepth = 256;

    private const int NewFolderMode = 0x1ed; // 0755

    private ConfinedDirectory(SafeFileHandle handle, string path)
    {
        Handle = handle;
        Path = path;
    }

    /// <summary>The folder's path, for messages (and for the mount table, which names mounts by path).</summary>
    public string Path { get; }

    public SafeFileHandle Handle { get; }

    /// <summary>The folder as the kernel can be given it where a call takes only a path (mount(2)): /proc/self/fd/N.</summary>
    public string ProcPath => ProcPathOf(Handle);

    /// <summary>/proc/self/fd/N of an open file: a path that leads to exactly that file while it stays open.</summary>
    public static string ProcPathOf(SafeHandle handle) => $"/proc/self/fd/{handle.DangerousGetHandle()}";

    /// <summary>Opens a folder the host made (see the summary: its own path is trusted).</summary>
    public static ConfinedDirectory Open(string path) =>
        TryOpen(path) ?? throw Errno.Exception(LibC.ENOENT, $"open folder {path}");

    /// <summary>As <see cref="Open"/>; null when the folder does not exist.</summary>
    public static ConfinedDirectory? TryOpen(string path)
    {
        var handle = Libc.Open(path, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
        if (!handle.IsInvalid)
            return new ConfinedDirectory(handle, path);
        var errno = Errno.Last;
        handle.Dispose();
        return errno == LibC.ENOENT ? null : throw Errno.Exception(errno, $"open folder {path}");
    }

    /// <summary>
    /// Opens <paramref name="relative"/> beneath this folder with <paramref name="flags"/> (O_CLOEXEC is
    /// added, and O_NOFOLLOW where links are allowed on the way). <paramref name="allowSymlinks"/>: links that stay beneath the folder are
    /// followed (magic links and links that lead out never are). Throws: a link on the way is
    /// FailedPrecondition; a missing file NotFound.
    /// </summary>
    public SafeFileHandle OpenFile(string relative, int flags, int mode = 0, bool allowSymlinks = false) =>
        OpenBeneath(Handle, Path, Utf8.Z(relative)!, flags, mode, allowSymlinks ? 0 : Libc.ResolveNoSymlinks);

    /// <summary>Opens the folder <paramref name="relative"/> beneath this one, with no link on the way.</summary>
    public ConfinedDirectory OpenDirectory(string relative) =>
        new(OpenFile(relative, LibC.O_RDONLY | LibC.O_DIRECTORY), Combine(Path, relative));

    /// <summary>As <see cref="OpenDirectory"/>; null when it does not exist.</summary>
    public ConfinedDirectory? TryOpenDirectory(string relative)
    {
        try
        {
            return OpenDirectory(relative);
        }
        catch (StencilException ex) when (ex.Kind == ErrorKind.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// Makes the folders of <paramref name="relative"/> that are missing, one name at a time (mkdirat, then
    /// open with no link: a link the guest put in place of one fails), and returns the last one open.
    /// </summary>
    public ConfinedDirectory CreateDirectories(string relative, int mode = NewFolderMode)
    {
        var current = new ConfinedDirectory(Libc.OpenAt(Handle, ".", LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC), Path);
        foreach (var name in Names(relative))
        {
            try
            {
                if (Libc.MkdirAt(current.Handle, name, mode) != 0 && Errno.Last != LibC.EEXIST)
                    throw Errno.LastException($"mkdir {Combine(current.Path, name)}");
                var next = current.OpenDirectory(name);
                current.Dispose();
                current = next;
            }
            catch
            {
                current.Dispose();
                throw;
            }
        }
        return current;
    }

    /// <summary>
    /// Creates the file <paramref name="name"/> in this folder with O_CREAT|O_EXCL (open for writing): it
    /// is new, so no link or hard link the guest made is written through. AlreadyExists when the name is taken.
    /// </summary>
    public SafeFileHandle CreateFile(string name, int mode) =>
        OpenBeneath(Handle, Path, Utf8.Z(CheckName(name))!, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL, mode, Libc.ResolveNoSymlinks);

    /// <summary>
    /// Reads at most <paramref name="limit"/> bytes of the regular file <paramref name="relative"/> (no link
    /// on the way; anything but a regular file, a FIFO say, is InvalidArgument and is never opened for
    /// reading). <paramref name="tail"/>: the last bytes instead of the first.
    /// </summary>
    public BoundedContent ReadFile(string relative, int limit, bool tail = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var shown = Combine(Path, relative);
        // O_PATH first: opening a FIFO or a device node can block or act (a tape rewinds); only a
        // regular file is opened for reading, through its /proc/self/fd link (exactly that inode).
        using var path = OpenFile(relative, LibC.O_PATH);
        if (Libc.Fstatx(path, LibC.STATX_TYPE | LibC.STATX_SIZE, out var facts) != 0)
            throw Errno.LastException($"stat {shown}");
        if (Libc.FileType(facts) != (ushort)LibC.S_IFREG)
            throw StencilException.InvalidArgument($"{shown} is not a regular file (mode 0{Convert.ToString(facts.stx_mode, 8)})");
        using var file = Errno.Check(Libc.Open(ProcPathOf(path), LibC.O_RDONLY | LibC.O_NONBLOCK | LibC.O_NOCTTY | LibC.O_CLOEXEC), $"open {shown}");
        var size = (long)facts.stx_size;
        var offset = tail && size > limit ? size - limit : 0;
        // One byte more than the limit tells a file that grew past it from one that is exactly that long.
        var buffer = new byte[limit + 1];
        var filled = 0;
        while (filled < buffer.Length)
        {
            var n = Libc.PRead(file, buffer.AsSpan(filled), offset + filled);
            if (n < 0)
                throw Errno.LastException($"read {shown}");
            if (n == 0)
                break;
            filled += (int)n;
        }
        var truncated = offset > 0 || filled > limit;
        return new BoundedContent(buffer.AsSpan(0, Math.Min(filled, limit)).ToArray(), truncated);
    }

    /// <summary>
    /// Removes <paramref name="name"/> (a single name in this folder) and, if it is a folder, everything
    /// in it, by fds: a link is removed, never followed; a mount point is never crossed (RESOLVE_NO_XDEV:
    /// FailedPrecondition, and nothing below it is touched). Missing is not an error. Entries the guest
    /// adds meanwhile are removed too (the folder is read again until it is empty, a few times).
    /// </summary>
    public void RemoveTree(string name) => RemoveEntry(Handle, Path, Utf8.Z(CheckName(name))!, 0);

    public void Dispose() => Handle.Dispose();

    private static void RemoveEntry(SafeFileHandle parent, string parentPath, byte[] name, int depth)
    {
        var shown = Combine(parentPath, DirectoryEntries.Show(name));
        for (var attempt = 0; ; attempt++)
        {
            if (Libc.StatxAt(parent, name, LibC.STATX_TYPE, LibC.AT_SYMLINK_NOFOLLOW, out var facts) != 0)
            {
                if (Errno.Last == LibC.ENOENT)
                    return;
                throw Errno.LastException($"stat {shown}");
            }
            if (Libc.FileType(facts) != (ushort)LibC.S_IFDIR)
            {
                // A file, a link (the link goes, not what it names), a FIFO, a device node, a socket.
                if (Libc.UnlinkAt(parent, name, 0) == 0 || Errno.Last == LibC.ENOENT)
                    return;
                if (Errno.Last != LibC.EISDIR || attempt > 2)
                    throw Errno.LastException($"unlink {shown}");
                continue; // it became a folder meanwhile
            }
            if (depth >= MaxDepth)
                throw StencilException.FailedPrecondition($"cannot remove {shown}: folders nested deeper than {MaxDepth} levels");
            var directory = Libc.OpenAt2(parent, name, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0,
                Libc.ResolveBeneath | Libc.ResolveNoSymlinks | Libc.ResolveNoMagicLinks | Libc.ResolveNoXdev);
            if (directory.IsInvalid)
            {
                var errno = Errno.Last;
                directory.Dispose();
                if (errno == LibC.ENOENT)
                    return;
                if ((errno == LibC.ELOOP || errno == LibC.ENOTDIR) && attempt <= 2)
                    continue; // replaced by a link or a file meanwhile: look again
                throw OpenFailure(errno, shown);
            }
            using (directory)
                EmptyDirectory(directory, shown, depth);
            if (Libc.UnlinkAt(parent, name, LibC.AT_REMOVEDIR) == 0 || Errno.Last == LibC.ENOENT)
                return;
            if ((Errno.Last != LibC.ENOTEMPTY && Errno.Last != LibC.ENOTDIR) || attempt > 2)
                throw Errno.LastException($"rmdir {shown}");
        }
    }

    private static void EmptyDirectory(SafeFileHandle directory, string shown, int depth)
    {
        var buffer = new byte[32 * 1024];
        while (true)
        {
            var n = Libc.GetDents64(directory, buffer);
            if (n < 0)
                throw Errno.LastException($"read folder {shown}");
            if (n == 0)
                return;
            foreach (var entry in DirectoryEntries.Names(buffer.AsSpan(0, (int)n)))
                RemoveEntry(directory, shown, entry, depth + 1);
        }
    }

    private static SafeFileHandle OpenBeneath(SafeFileHandle root, string rootPath, byte[] relative, int flags, int mode, ulong extraResolve)
    {
        // RESOLVE_NO_SYMLINKS refuses a link at the last name too (ELOOP); O_NOFOLLOW would instead open
        // the link itself under O_PATH, or fail O_DIRECTORY with ENOTDIR, which says less.
        var noFollow = (extraResolve & Libc.ResolveNoSymlinks) != 0 ? 0 : LibC.O_NOFOLLOW;
        var handle = Libc.OpenAt2(root, relative, flags | noFollow | LibC.O_CLOEXEC, mode,
            Libc.ResolveBeneath | Libc.ResolveNoMagicLinks | extraResolve);
        if (!handle.IsInvalid)
            return handle;
        var errno = Errno.Last;
        handle.Dispose();
        throw OpenFailure(errno, Combine(rootPath, DirectoryEntries.Show(relative)));
    }

    private static StencilException OpenFailure(int errno, string shown)
    {
        if (errno == LibC.ENOSYS)
        {
            return StencilException.FailedPrecondition(
                $"open {shown}: this kernel ({Libc.KernelRelease()}) has no openat2(2) (Linux 5.6 or later), which the runtime needs to open files in folders the guest can write");
        }
        if (errno == LibC.ELOOP)
            return StencilException.FailedPrecondition($"open {shown}: a symbolic link on the way (links in folders the guest can write are not followed)");
        if (errno == LibC.EXDEV)
            return StencilException.FailedPrecondition($"open {shown}: a mount point, or a path that leads out of the folder, on the way");
        return Errno.Exception(errno, $"open {shown}");
    }

    private static IEnumerable<string> Names(string relative)
    {
        foreach (var name in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
            yield return CheckName(name);
    }

    private static string CheckName(string name) =>
        name.Length == 0 || name is "." or ".." || name.Contains('/') || name.Contains('\0')
            ? throw StencilException.InvalidArgument($"\"{name}\" is not a single name in a folder")
            : name;

    private static string Combine(string folder, string relative) => folder.TrimEnd('/') + "/" + relative.TrimStart('/');
}

/// <param name="Bytes">At most the limit asked for.</param>
/// <param name="Truncated">The file had more than that (or, read from the end, more before it).</param>
internal readonly record struct BoundedContent(byte[] Bytes, bool Truncated);
