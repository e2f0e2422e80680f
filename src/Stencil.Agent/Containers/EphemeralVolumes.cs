using Stencil.Interop;
using Tmds.Linux;
using Stencil.Agent.Logging;

namespace Stencil.Agent.Containers;

/// <summary>
/// The sandbox's tmpfs volumes, by name: the first container that names one makes it (a tmpfs under
/// <paramref name="root"/> with that container's options), every later one binds the same. They are
/// what the pod's /dev/shm and memory-backed emptyDir volumes are in the guest: the guest's own pages,
/// so a MAP_SHARED mapping is one page for every process that maps the file (over 9p each open has
/// an inode of its own, and two mappings of one file need not see each other's writes).
/// </summary>
internal sealed class EphemeralVolumes(string root)
{
    private const int MaxNameLength = 64;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, string> _mounted = new(StringComparer.Ordinal);

    /// <summary>The folder of tmpfs <paramref name="name"/>, mounted now if it was not yet.</summary>
    internal string Ensure(string name, IReadOnlyList<string> options, string field)
    {
        CheckName(name, field);
        lock (_lock)
        {
            if (_mounted.TryGetValue(name, out var existing))
                return existing;
            var path = Path.Combine(root, name);
            Directory.CreateDirectory(path);
            var (flags, data) = MountOptions.Parse(options);
            flags &= LibC.MS_RDONLY | LibC.MS_NOSUID | LibC.MS_NODEV | LibC.MS_NOEXEC;
            if (Libc.Mount("stencil-" + name, path, "tmpfs", flags, data.Length == 0 ? null : data) != 0)
                throw Errno.Exception(Errno.Last, $"mount tmpfs {name} ({string.Join(',', options)}) on {path}");
            _mounted[name] = path;
            AgentLog.Info($"sandbox tmpfs {name} mounted ({string.Join(',', options)})");
            return path;
        }
    }

    /// <summary>Unmounts them all (the sandbox is going; containers' binds of them are gone already).</summary>
    internal void UnmountAll()
    {
        lock (_lock)
        {
            foreach (var (name, path) in _mounted)
            {
                if (Libc.Umount2(path, LibC.MNT_DETACH) != 0)
                    AgentLog.Warn($"umount sandbox tmpfs {name} at {path}: errno {Errno.Last}");
            }
            _mounted.Clear();
        }
    }

    /// <summary>A name is one path component of letters, digits, '_', '.', '-' (not starting with a dot).</summary>
    internal static void CheckName(string name, string field)
    {
        if (name.Length is 0 or > MaxNameLength || !char.IsAsciiLetterOrDigit(name[0])
            || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            throw StencilException.InvalidArgument(
                $"{field} \"{name}\" is not a tmpfs name (1-{MaxNameLength} of A-Z a-z 0-9 _ . -, starting with a letter or digit)");
    }
}
