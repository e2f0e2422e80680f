using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor.Tests;

/// <summary>The page file a checkpoint keeps memory and disks in, and finding QEMU's memory mapping: byte vectors.</summary>
[Trait("Category", "Unit")]
public sealed class CheckpointCodecTests
{
    private static byte[] Page(byte fill)
    {
        var page = new byte[GuestPageFile.PageSize];
        Array.Fill(page, fill);
        return page;
    }

    private static byte[] Write(long regionPages, params (long Index, byte Fill)[] pages)
    {
        using var stream = new MemoryStream();
        GuestPageFile.WriteHeader(stream, regionPages);
        foreach (var (index, fill) in pages)
            GuestPageFile.WritePage(stream, index, Page(fill));
        GuestPageFile.WriteEnd(stream);
        return stream.ToArray();
    }

    [Fact]
    public void A_page_file_is_header_records_and_end_marker()
    {
        var bytes = Write(16, (2, 0xAB));
        Assert.Equal(24 + 8 + GuestPageFile.PageSize + 8, bytes.Length);
        Assert.Equal("STNCLPG1"u8.ToArray(), bytes[..8]);
        Assert.Equal([0x00, 0x10, 0x00, 0x00, 0, 0, 0, 0], bytes[8..16]);        // page size 4096, reserved
        Assert.Equal([16, 0, 0, 0, 0, 0, 0, 0], bytes[16..24]);                  // region of 16 pages
        Assert.Equal([2, 0, 0, 0, 0, 0, 0, 0], bytes[24..32]);                   // page 2
        Assert.Equal(0xAB, bytes[32]);
        Assert.Equal(Enumerable.Repeat((byte)0xFF, 8), bytes[^8..]);             // end
    }

    [Fact]
    public void Reading_gives_back_each_page_with_its_index()
    {
        var seen = new List<(long, byte)>();
        var count = GuestPageFile.Read(new MemoryStream(Write(8, (0, 1), (5, 2), (7, 3))), 8, "f", (i, p) => seen.Add((i, p[100])));
        Assert.Equal(3, count);
        Assert.Equal([(0L, (byte)1), (5L, (byte)2), (7L, (byte)3)], seen);
    }

    [Theory]
    [InlineData(9, "f was made for a region of 8 pages, this one has 9")]
    public void A_file_for_another_region_is_refused(long regionPages, string message)
    {
        var ex = Assert.Throws<StencilException>(() => GuestPageFile.Read(new MemoryStream(Write(8, (1, 1))), regionPages, "f", (_, _) => { }));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Pages_outside_the_region_out_of_order_or_cut_short_are_refused_before_anything_is_written_there()
    {
        var outside = Write(8, (8, 1));
        Assert.Contains("outside the region of 8 pages", Assert.Throws<StencilException>(() => GuestPageFile.Read(new MemoryStream(outside), 8, "f", (_, _) => Assert.Fail("written"))).Message);

        var backwards = Write(8, (3, 1), (2, 1));
        var written = 0;
        Assert.Contains("record 1 is page 2", Assert.Throws<StencilException>(() => GuestPageFile.Read(new MemoryStream(backwards), 8, "f", (_, _) => written++)).Message);
        Assert.Equal(1, written);

        var whole = Write(8, (1, 1));
        var cut = whole[..(whole.Length - 100)];
        Assert.Equal("f ends inside page 1 (the file is cut short)",
            Assert.Throws<StencilException>(() => GuestPageFile.Read(new MemoryStream(cut), 8, "f", (_, _) => { })).Message);

        var garbage = new byte[64];
        Assert.Equal("f is not a Stencil page file (no \"STNCLPG1\" at its start)",
            Assert.Throws<StencilException>(() => GuestPageFile.Read(new MemoryStream(garbage), 8, "f", (_, _) => { })).Message);
    }

    [Fact]
    public void The_memory_mapping_is_found_by_path_also_when_its_file_was_removed()
    {
        string[] maps =
        [
            "55d0c0a00000-55d0c0b00000 r-xp 00000000 08:01 1234 /usr/bin/qemu-system-x86_64",
            "7fbd0ffff000-7fbd1ffff000 rw-p 00000000 00:28 9                          /run/tpl/abc/memory (deleted)",
            "7fbd20000000-7fbd20001000 rw-p 00001000 00:28 9                          /run/tpl/abc/memory",
        ];
        Assert.Equal((0x7fbd0ffff000L, 0x10000000L, 9L), ProcMaps.FindFileMapping(maps, "/run/tpl/abc/memory"));
        Assert.Null(ProcMaps.FindFileMapping(maps, "/run/tpl/other/memory"));
    }

    [Fact]
    public void A_clone_loading_a_checkpoint_starts_stopped_without_a_configuration_section()
    {
        var description = new VmDescription { Kernel = new KernelBoot("/k") };
        var instance = VmInstance.ForClone(VmInstancePaths.InDirectory("/run/vm"), "/run/tpl/memory") with { LoadsDeviceState = true };
        var args = QemuCommandLine.Build(description, instance);
        Assert.Equal(["-incoming", "defer", "-S", "-global", "migration.send-configuration=off"], args.TakeLast(5));

        var ex = Assert.Throws<StencilException>(() => QemuCommandLine.Build(description, VmInstance.ForColdBoot(VmInstancePaths.InDirectory("/run/vm")) with { LoadsDeviceState = true }));
        Assert.Equal("only a clone loads a checkpoint's device state", ex.Message);
    }
}
