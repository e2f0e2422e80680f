using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests;

/// <summary>A checkpoint's root disk: the non-zero blocks of a sparse image, and the image made again from them.</summary>
[Trait("Category", "Unit")]
public sealed class DiskPagesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-diskpages-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_sparse_image_goes_out_as_its_written_blocks_and_comes_back_the_same()
    {
        var image = Path.Combine(_dir, "rootfs.img");
        const long size = (64L << 20) + 100; // not a whole number of pages
        using (var file = new FileStream(image, FileMode.CreateNew, FileAccess.Write))
        {
            file.SetLength(size);
            Write(file, 0, 0x11, 4096);                 // first page
            Write(file, 5 * 4096 + 10, 0x22, 20);       // inside a page
            Write(file, (40L << 20) - 2, 0x33, 4);      // across two pages
            Write(file, 6 * 4096, 0x00, 4096);          // written, but zero: not kept
            Write(file, size - 3, 0x44, 3);             // the last, partial page
        }
        var pages = Path.Combine(_dir, "rootfs.pages");
        Assert.Equal(5, DiskPages.Save(image, pages));
        // Far smaller than the image: only the blocks with data.
        Assert.True(new FileInfo(pages).Length < 6 * 4200, $"{new FileInfo(pages).Length} bytes");

        var back = Path.Combine(_dir, "restored.img");
        DiskPages.Restore(pages, back, size);
        Assert.Equal(size, new FileInfo(back).Length);
        Assert.Equal(File.ReadAllBytes(image), File.ReadAllBytes(back));
    }

    [Fact]
    public void A_size_that_is_not_plausible_is_refused_before_anything_is_made()
    {
        var ex = Assert.Throws<StencilException>(() => DiskPages.Restore(Path.Combine(_dir, "none"), Path.Combine(_dir, "x.img"), -1));
        Assert.Equal("the checkpoint's root disk size -1 is not plausible", ex.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "x.img")));
    }

    private static void Write(FileStream file, long offset, byte value, int count)
    {
        file.Position = offset;
        file.Write(Enumerable.Repeat(value, count).ToArray());
    }
}
