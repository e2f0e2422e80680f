namespace Stencil.Runtime.Storage;

/// <summary>
/// Splits mount(8)-style options into mount(2) flags and the filesystem's data string. Pure.
/// Propagation options ("rprivate", "shared", ...) are returned apart: they need a second mount(2)
/// call on the target after it is mounted.
/// </summary>
public static class MountOptions
{
    public const ulong MS_RDONLY = 0x1;
    public const ulong MS_NOSUID = 0x2;
    public const ulong MS_NODEV = 0x4;
    public const ulong MS_NOEXEC = 0x8;
    public const ulong MS_SYNCHRONOUS = 0x10;
    public const ulong MS_REMOUNT = 0x20;
    public const ulong MS_DIRSYNC = 0x80;
    public const ulong MS_NOATIME = 0x400;
    public const ulong MS_NODIRATIME = 0x800;
    public const ulong MS_BIND = 0x1000;
    public const ulong MS_REC = 0x4000;
    public const ulong MS_UNBINDABLE = 0x20000;
    public const ulong MS_PRIVATE = 0x40000;
    public const ulong MS_SLAVE = 0x80000;
    public const ulong MS_SHARED = 0x100000;
    public const ulong MS_RELATIME = 0x200000;
    public const ulong MS_STRICTATIME = 0x1000000;

    // (option, flags to set, true: clear them instead)
    private static readonly Dictionary<string, (ulong Flag, bool Clear)> s_flags = new()
    {
        ["ro"] = (MS_RDONLY, false), ["rw"] = (MS_RDONLY, true),
        ["nosuid"] = (MS_NOSUID, false), ["suid"] = (MS_NOSUID, true),
        ["nodev"] = (MS_NODEV, false), ["dev"] = (MS_NODEV, true),
        ["noexec"] = (MS_NOEXEC, false), ["exec"] = (MS_NOEXEC, true),
        ["sync"] = (MS_SYNCHRONOUS, false), ["async"] = (MS_SYNCHRONOUS, true),
        ["dirsync"] = (MS_DIRSYNC, false),
        ["remount"] = (MS_REMOUNT, false),
        ["noatime"] = (MS_NOATIME, false), ["atime"] = (MS_NOATIME, true),
        ["nodiratime"] = (MS_NODIRATIME, false), ["diratime"] = (MS_NODIRATIME, true),
        ["relatime"] = (MS_RELATIME, false), ["norelatime"] = (MS_RELATIME, true),
        ["strictatime"] = (MS_STRICTATIME, false), ["nostrictatime"] = (MS_STRICTATIME, true),
        ["bind"] = (MS_BIND, false), ["rbind"] = (MS_BIND | MS_REC, false),
        ["defaults"] = (0, false),
    };

    private static readonly Dictionary<string, ulong> s_propagation = new()
    {
        ["private"] = MS_PRIVATE, ["rprivate"] = MS_PRIVATE | MS_REC,
        ["shared"] = MS_SHARED, ["rshared"] = MS_SHARED | MS_REC,
        ["slave"] = MS_SLAVE, ["rslave"] = MS_SLAVE | MS_REC,
        ["unbindable"] = MS_UNBINDABLE, ["runbindable"] = MS_UNBINDABLE | MS_REC,
    };

    /// <summary>The longest data string mount(2) takes (one page, with its terminating NUL).</summary>
    public const int MaxDataLength = 4095;

    public static ParsedMountOptions Parse(IEnumerable<string> options)
    {
        ulong flags = 0, propagation = 0;
        var data = new List<string>();
        foreach (var option in options)
        {
            if (s_flags.TryGetValue(option, out var f))
                flags = f.Clear ? flags & ~f.Flag : flags | f.Flag;
            else if (s_propagation.TryGetValue(option, out var p))
                propagation |= p;
            else if (option.Length > 0)
                data.Add(option);
        }
        var joined = string.Join(',', data);
        if (joined.Length > MaxDataLength)
            throw StencilException.InvalidArgument($"mount options are {joined.Length} bytes long; mount(2) takes at most {MaxDataLength}");
        return new ParsedMountOptions(flags, propagation, joined);
    }
}

public readonly record struct ParsedMountOptions(ulong Flags, ulong Propagation, string Data)
{
    public bool IsBind => (Flags & MountOptions.MS_BIND) != 0;
    public bool ReadOnly => (Flags & MountOptions.MS_RDONLY) != 0;
}
