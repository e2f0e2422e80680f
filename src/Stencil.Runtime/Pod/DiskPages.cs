using Stencil.Hypervisor;
using Stencil.Interop;

namespace Stencil.Runtime.Pod;

/// <summary>A disk image as a <see cref="GuestPageFile"/> of its non-zero blocks, and back into a sparse file.</summary>
internal static class DiskPages
{
    /// <summary>
    /// Writes the non-zero blocks of <paramref name="image"/> (a sparse file: only its data extents,
    /// found with SEEK_DATA/SEEK_HOLE, are read) to <paramref name="pagesFile"/>; returns how many.
    /// </summary>
    public static long Save(string image, string pagesFile)
    {
        using var input = File.OpenHandle(image, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var output = new FileStream(pagesFile, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        var length = RandomAccess.GetLength(input);
        var pages = (length + GuestPageFile.PageSize - 1) / GuestPageFile.PageSize;
        GuestPageFile.WriteHeader(output, pages);
        var chunk = new byte[256 * GuestPageFile.PageSize];
        long written = 0;
        long offset = 0;
        while (offset < length)
        {
            var data = Libc.SeekData(input, offset);
            if (data < 0)
                break; // ENXIO: nothing but a hole is left
            var hole = Math.Min(length, Math.Max(Libc.SeekHole(input, data), data + 1));
            // Whole pages: an extent's edges may fall inside one.
            for (var first = data / GuestPageFile.PageSize; first * GuestPageFile.PageSize < hole;)
            {
                var count = (int)Math.Min(chunk.Length / GuestPageFile.PageSize, (hole - first * GuestPageFile.PageSize + GuestPageFile.PageSize - 1) / GuestPageFile.PageSize);
                var span = chunk.AsSpan(0, count * GuestPageFile.PageSize);
                span.Clear();
                RandomAccess.Read(input, span, first * GuestPageFile.PageSize);
                for (var i = 0; i < count; i++)
                {
                    var page = span.Slice(i * GuestPageFile.PageSize, GuestPageFile.PageSize);
                    if (GuestPageFile.IsZero(page))
                        continue;
                    GuestPageFile.WritePage(output, first + i, page);
                    written++;
                }
                first += count;
            }
            offset = (hole + GuestPageFile.PageSize - 1) / GuestPageFile.PageSize * GuestPageFile.PageSize;
        }
        GuestPageFile.WriteEnd(output);
        return written;
    }

    public static void Restore(string pagesFile, string image, long bytes)
    {
        if (bytes <= 0 || bytes > 1L << 40)
            throw StencilException.InvalidArgument($"the checkpoint's root disk size {bytes} is not plausible");
        using var input = new FileStream(pagesFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        using var output = new FileStream(image, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        output.SetLength(bytes);
        var pages = (bytes + GuestPageFile.PageSize - 1) / GuestPageFile.PageSize;
        GuestPageFile.Read(input, pages, pagesFile, (index, page) =>
        {
            var offset = index * GuestPageFile.PageSize;
            RandomAccess.Write(output.SafeFileHandle, page[..(int)Math.Min(page.Length, bytes - offset)], offset);
        });
    }
}
