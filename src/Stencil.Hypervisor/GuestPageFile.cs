using System.Buffers.Binary;

namespace Stencil.Hypervisor;

/// <summary>
/// A sparse page image: the pages of a region (guest memory, a disk) that a checkpoint keeps, each with
/// its index. Little-endian: "STNCLPG1", page size (u32), 0 (u32), region size in pages (u64), then
/// records of index (u64) + page bytes in strictly increasing index order, ended by the index
/// <see cref="EndMarker"/>. Used for the pages a clone has of its own (the rest are its template's), for
/// a whole memory or disk minus its zero pages. A file read back may come from anywhere: every index
/// is checked to lie inside the region and to increase, and a short file is an error, so a reader
/// never writes outside the region it was given.
/// </summary>
public static class GuestPageFile
{
    public const int PageSize = 4096;

    private const ulong EndMarker = ulong.MaxValue;

    private static ReadOnlySpan<byte> Magic => "STNCLPG1"u8;

    private const int HeaderSize = 24;

    /// <summary>Writes the header; then <see cref="WritePage"/> per page and <see cref="WriteEnd"/>.</summary>
    public static void WriteHeader(Stream output, long regionPages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(regionPages);
        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], PageSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], (ulong)regionPages);
        output.Write(header);
    }

    public static void WritePage(Stream output, long index, ReadOnlySpan<byte> page)
    {
        if (page.Length != PageSize)
            throw new ArgumentException($"a page is {PageSize} bytes, not {page.Length}", nameof(page));
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)index);
        output.Write(prefix);
        output.Write(page);
    }

    public static void WriteEnd(Stream output)
    {
        Span<byte> end = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(end, EndMarker);
        output.Write(end);
    }

    /// <summary>True when every byte of <paramref name="page"/> is zero (such pages need not be kept over a zero base).</summary>
    public static bool IsZero(ReadOnlySpan<byte> page) => !page.ContainsAnyExcept((byte)0);

    /// <summary>
    /// Reads a page file, calling <paramref name="page"/> with each page's index and bytes. The region
    /// it was made for must be <paramref name="regionPages"/> pages long. <paramref name="what"/> names the file in errors.
    /// </summary>
    /// <returns>How many pages it held.</returns>
    public static long Read(Stream input, long regionPages, string what, Action<long, ReadOnlySpan<byte>> page)
    {
        ArgumentNullException.ThrowIfNull(page);
        var header = new byte[HeaderSize];
        ReadExactly(input, header, what, "its header");
        if (!header.AsSpan(0, 8).SequenceEqual(Magic))
            throw StencilException.InvalidArgument($"{what} is not a Stencil page file (no \"STNCLPG1\" at its start)");
        var pageSize = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8));
        if (pageSize != PageSize)
            throw StencilException.InvalidArgument($"{what} has {pageSize}-byte pages, this host uses {PageSize}");
        var pages = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(16));
        if (pages != (ulong)regionPages)
            throw StencilException.InvalidArgument($"{what} was made for a region of {pages} pages, this one has {regionPages}");
        var buffer = new byte[8 + PageSize];
        long count = 0;
        long last = -1;
        while (true)
        {
            ReadExactly(input, buffer.AsMemory(0, 8), what, $"record {count}");
            var index = BinaryPrimitives.ReadUInt64LittleEndian(buffer);
            if (index == EndMarker)
                return count;
            if (index >= (ulong)regionPages || (long)index <= last)
                throw StencilException.InvalidArgument($"{what}: record {count} is page {index}, outside the region of {regionPages} pages or not after page {last}");
            ReadExactly(input, buffer.AsMemory(8, PageSize), what, $"page {index}");
            page((long)index, buffer.AsSpan(8, PageSize));
            last = (long)index;
            count++;
        }
    }

    private static void ReadExactly(Stream input, Memory<byte> buffer, string what, string part)
    {
        try
        {
            input.ReadExactly(buffer.Span);
        }
        catch (EndOfStreamException ex)
        {
            throw new StencilException(ErrorKind.InvalidArgument, $"{what} ends inside {part} (the file is cut short)", ex);
        }
    }
}
