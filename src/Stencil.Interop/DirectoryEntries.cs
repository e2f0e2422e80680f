using System.Buffers.Binary;
using System.Text;

namespace Stencil.Interop;

/// <summary>
/// The records getdents64(2) writes. Pure, so it is tested with byte vectors:
/// <code>
/// offset 0   u64 d_ino
///        8   s64 d_off
///        16  u16 d_reclen   (the whole record, padded to 8 bytes)
///        18  u8  d_type     (DT_DIR = 4, DT_LNK = 10, ...; DT_UNKNOWN = 0 on some file systems)
///        19  d_name, NUL-terminated
/// </code>
/// </summary>
internal static class DirectoryEntries
{
    private const int NameOffset = 19;

    /// <summary>The names in <paramref name="records"/>, without "." and "..", as NUL-terminated bytes:
    /// a name need not be UTF-8, and a folder is emptied by the names it has, not by their decoding.</summary>
    internal static List<byte[]> Names(ReadOnlySpan<byte> records)
    {
        var names = new List<byte[]>();
        while (records.Length > 0)
        {
            if (records.Length < NameOffset + 1)
                throw StencilException.Internal($"getdents64 returned a record of {records.Length} bytes");
            int length = BinaryPrimitives.ReadUInt16LittleEndian(records[16..]);
            if (length < NameOffset + 1 || length > records.Length)
                throw StencilException.Internal($"getdents64 returned a record length of {length} with {records.Length} bytes left");
            var name = records[NameOffset..length];
            var end = name.IndexOf((byte)0);
            if (end >= 0)
                name = name[..end];
            if (!name.SequenceEqual("."u8) && !name.SequenceEqual(".."u8))
                names.Add([.. name, 0]);
            records = records[length..];
        }
        return names;
    }

    /// <summary>A NUL-terminated name for a message (bytes that are not UTF-8 shown as U+FFFD).</summary>
    internal static string Show(byte[] name) => Encoding.UTF8.GetString(name.AsSpan(0, Math.Max(0, name.Length - 1)));
}
