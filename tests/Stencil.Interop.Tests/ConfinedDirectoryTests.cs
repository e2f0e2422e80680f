using System.Text;
using Tmds.Linux;

namespace Stencil.Interop.Tests;

/// <summary>
/// A folder the guest writes into, with the links a hostile guest would plant, against the real kernel:
/// nothing outside the folder is read, written or removed, and each refusal says what it met.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ConfinedDirectoryTests : IDisposable
{
    private readonly string _base = Directory.CreateTempSubdirectory("stencil-confined-").FullName;
    private readonly string _share;
    private readonly string _outside;
    private readonly string _secret;

    public ConfinedDirectoryTests()
    {
        _share = Directory.CreateDirectory(Path.Combine(_base, "share")).FullName;
        _outside = Directory.CreateDirectory(Path.Combine(_base, "outside")).FullName;
        _secret = Path.Combine(_outside, "secret");
        File.WriteAllText(_secret, "host secret");
    }

    public void Dispose() => Directory.Delete(_base, recursive: true);

    private string Share(string relative) => Path.Combine(_share, relative);

    public static TheoryData<string> EscapingLinks => new()
    {
        "absolute", // -> /…/outside/secret
        "relative", // -> ../outside/secret
        "deep/relative", // -> ../../outside/secret
        "via-dir/secret", // via-dir -> /…/outside
        "proc", // -> /proc/self/root/…/outside/secret (a magic link on the way)
    };

    private void PlantLinks()
    {
        File.CreateSymbolicLink(Share("absolute"), _secret);
        File.CreateSymbolicLink(Share("relative"), "../outside/secret");
        Directory.CreateDirectory(Share("deep"));
        File.CreateSymbolicLink(Share("deep/relative"), "../../outside/secret");
        Directory.CreateSymbolicLink(Share("via-dir"), _outside);
        File.CreateSymbolicLink(Share("proc"), "/proc/self/root" + _secret);
    }

    [Theory]
    [MemberData(nameof(EscapingLinks))]
    public void A_link_the_guest_planted_is_not_followed_out_of_the_folder(string relative)
    {
        PlantLinks();
        using var share = ConfinedDirectory.Open(_share);

        var read = Assert.Throws<StencilException>(() => share.ReadFile(relative, 1024));
        var open = Assert.Throws<StencilException>(() => share.OpenFile(relative, LibC.O_RDONLY, allowSymlinks: true).Dispose());

        Assert.Equal(ErrorKind.FailedPrecondition, read.Kind);
        Assert.StartsWith($"open {_share}/{relative}: a ", read.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorKind.FailedPrecondition, open.Kind); // RESOLVE_BENEATH: not even a link the caller allows leads out
        Assert.Equal("host secret", File.ReadAllText(_secret));
    }

    [Fact]
    public void A_link_at_the_last_name_is_refused_with_a_message_that_says_so()
    {
        File.WriteAllText(Share("real"), "inside");
        File.CreateSymbolicLink(Share("link"), "real");
        using var share = ConfinedDirectory.Open(_share);

        var ex = Assert.Throws<StencilException>(() => share.ReadFile("link", 100));

        Assert.Equal($"open {_share}/link: a symbolic link on the way (links in folders the guest can write are not followed)", ex.Message);
        Assert.Equal("inside"u8.ToArray(), share.ReadFile("real", 100).Bytes);
    }

    [Fact]
    public void Dot_dot_and_absolute_paths_stay_beneath_the_folder()
    {
        using var share = ConfinedDirectory.Open(_share);

        Assert.Equal(ErrorKind.FailedPrecondition, Assert.Throws<StencilException>(() => share.ReadFile("../outside/secret", 100)).Kind);
        Assert.Equal(ErrorKind.FailedPrecondition, Assert.Throws<StencilException>(() => share.ReadFile(_secret, 100)).Kind);
    }

    [Fact]
    public void A_FIFO_is_refused_without_blocking()
    {
        Assert.Equal(0, Mkfifo(Share("log")));
        using var share = ConfinedDirectory.Open(_share);

        var ex = Assert.Throws<StencilException>(() => share.ReadFile("log", 100));

        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal($"{_share}/log is not a regular file (mode 010644)", ex.Message);
    }

    [Fact]
    public void A_huge_file_is_read_up_to_the_limit_from_either_end()
    {
        using (var stream = File.Create(Share("huge")))
        {
            stream.SetLength(1L << 40); // 1 TiB, sparse
            stream.Position = (1L << 40) - 4;
            stream.Write("tail"u8);
        }
        File.WriteAllText(Share("small"), "0123456789");
        using var share = ConfinedDirectory.Open(_share);

        var head = share.ReadFile("huge", 4096);
        var tail = share.ReadFile("huge", 4, tail: true);
        var small = share.ReadFile("small", 10);
        var cut = share.ReadFile("small", 4);

        Assert.Equal((4096, true), (head.Bytes.Length, head.Truncated));
        Assert.Equal(("tail", true), (Encoding.ASCII.GetString(tail.Bytes), tail.Truncated));
        Assert.Equal(("0123456789", false), (Encoding.ASCII.GetString(small.Bytes), small.Truncated));
        Assert.Equal(("0123", true), (Encoding.ASCII.GetString(cut.Bytes), cut.Truncated));
    }

    [Fact]
    public void Folders_are_made_one_name_at_a_time_and_a_planted_link_stops_them()
    {
        Directory.CreateSymbolicLink(Share("c2"), _outside);
        using var share = ConfinedDirectory.Open(_share);

        using (var made = share.CreateDirectories("c1/mounts"))
            Assert.Equal($"{_share}/c1/mounts", made.Path);
        var ex = Assert.Throws<StencilException>(() => share.CreateDirectories("c2/rootfs").Dispose());

        Assert.True(Directory.Exists(Share("c1/mounts")));
        Assert.Equal(ErrorKind.FailedPrecondition, ex.Kind);
        Assert.False(Directory.Exists(Path.Combine(_outside, "rootfs")));
    }

    [Fact]
    public void A_new_file_is_never_written_through_a_link_or_a_hard_link()
    {
        File.CreateSymbolicLink(Share("link"), _secret);
        File.WriteAllText(Share("inside"), "guest's");
        Assert.Equal(0, Link(Share("inside"), Share("hard")));
        using var share = ConfinedDirectory.Open(_share);

        var throughLink = Assert.Throws<StencilException>(() => share.CreateFile("link", 0x1a4).Dispose());
        var throughHardLink = Assert.Throws<StencilException>(() => share.CreateFile("hard", 0x1a4).Dispose());
        using (var made = share.CreateFile("new", 0x1a4))
            Assert.Equal(3, Libc.Write(made, "new"u8));

        Assert.Equal(ErrorKind.AlreadyExists, throughLink.Kind);
        Assert.Equal(ErrorKind.AlreadyExists, throughHardLink.Kind);
        Assert.Equal("host secret", File.ReadAllText(_secret));
        Assert.Equal("guest's", File.ReadAllText(Share("inside")));
        Assert.Equal("new", File.ReadAllText(Share("new")));
    }

    [Fact]
    public void Removing_a_tree_removes_links_and_never_what_they_name()
    {
        PlantLinks();
        Directory.CreateDirectory(Share("tree/a/b"));
        File.WriteAllText(Share("tree/a/b/file"), "x");
        File.CreateSymbolicLink(Share("tree/a/root"), "/");
        Directory.CreateSymbolicLink(Share("tree/a/b/up"), "../../../../outside");
        File.CreateSymbolicLink(Share("tree/proc"), "/proc/self/root");
        Assert.Equal(0, Link(_secret, Share("tree/a/hard-to-secret")));
        Assert.Equal(0, Mkfifo(Share("tree/fifo")));
        using var share = ConfinedDirectory.Open(_share);

        foreach (var name in new[] { "tree", "absolute", "relative", "deep", "via-dir", "proc" })
            share.RemoveTree(name);

        Assert.Empty(Directory.EnumerateFileSystemEntries(_share));
        Assert.Equal("host secret", File.ReadAllText(_secret));
        Assert.Equal(["secret"], Directory.EnumerateFileSystemEntries(_outside).Select(Path.GetFileName));
    }

    [Fact]
    public void A_name_that_is_not_UTF8_is_removed_too()
    {
        Directory.CreateDirectory(Share("tree"));
        var path = Encoding.UTF8.GetBytes(Share("tree") + "/").Concat(new byte[] { 0xff, 0xfe, (byte)'x', 0 }).ToArray();
        Assert.True(Creat(path) >= 0);
        using var share = ConfinedDirectory.Open(_share);

        share.RemoveTree("tree");

        Assert.False(Directory.Exists(Share("tree")));
    }

    [Fact]
    public void A_missing_name_is_nothing_to_remove_and_a_path_is_not_a_name()
    {
        using var share = ConfinedDirectory.Open(_share);

        share.RemoveTree("missing");
        var ex = Assert.Throws<StencilException>(() => share.RemoveTree("../outside"));

        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.True(File.Exists(_secret));
    }

    [Fact]
    public void Removal_never_crosses_a_mount_point()
    {
        Directory.CreateDirectory(Share("c1/mounts/0"));
        Assert.Equal(0, Libc.Mount(_outside, Share("c1/mounts/0"), null, 0x1000 /* MS_BIND */, null));
        try
        {
            using var share = ConfinedDirectory.Open(_share);

            var ex = Assert.Throws<StencilException>(() => share.RemoveTree("c1"));

            Assert.Equal(ErrorKind.FailedPrecondition, ex.Kind);
            Assert.Contains("mount point", ex.Message, StringComparison.Ordinal);
            Assert.Equal("host secret", File.ReadAllText(_secret));
        }
        finally
        {
            Assert.Equal(0, Libc.Umount2(Share("c1/mounts/0"), 0));
        }
    }

    [Fact]
    public void A_tree_deeper_than_the_limit_is_refused_not_overflowed()
    {
        var deep = string.Join('/', Enumerable.Repeat("d", ConfinedDirectory.MaxDepth + 2));
        using var share = ConfinedDirectory.Open(_share);
        share.CreateDirectories(deep).Dispose();

        var ex = Assert.Throws<StencilException>(() => share.RemoveTree("d"));

        Assert.Contains($"nested deeper than {ConfinedDirectory.MaxDepth} levels", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_folder_can_be_handed_to_a_path_only_call_through_proc()
    {
        using var share = ConfinedDirectory.Open(_share);

        Assert.Equal(_share, new DirectoryInfo(share.ProcPath).LinkTarget);
    }

    [Fact]
    public void Getdents_records_are_parsed_and_dot_entries_skipped()
    {
        var records = Record(".", 4).Concat(Record("..", 4)).Concat(Record("a-name", 8)).Concat(Record("x", 10)).ToArray();

        var names = DirectoryEntries.Names(records);

        Assert.Equal(["a-name", "x"], names.Select(DirectoryEntries.Show));
        Assert.Throws<StencilException>(() => DirectoryEntries.Names(records.AsSpan(0, 30)));
    }

    private static byte[] Record(string name, byte type)
    {
        var length = (19 + name.Length + 1 + 7) / 8 * 8;
        var record = new byte[length];
        BitConverter.TryWriteBytes(record.AsSpan(16), (ushort)length);
        record[18] = type;
        Encoding.ASCII.GetBytes(name, record.AsSpan(19));
        return record;
    }

    private static unsafe int Mkfifo(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
            return LibC.mkfifo(p, 0x1a4);
    }

    private static unsafe int Link(string from, string to)
    {
        var a = Encoding.UTF8.GetBytes(from + "\0");
        var b = Encoding.UTF8.GetBytes(to + "\0");
        fixed (byte* pa = a)
        fixed (byte* pb = b)
            return LibC.link(pa, pb);
    }

    private static unsafe int Creat(byte[] path)
    {
        fixed (byte* p = path)
        {
            var fd = LibC.open(p, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_CLOEXEC, 0x1a4);
            if (fd >= 0)
                _ = LibC.close(fd);
            return fd;
        }
    }
}
