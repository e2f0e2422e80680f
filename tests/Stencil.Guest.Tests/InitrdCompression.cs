namespace Stencil.Guest.Tests;

/// <summary>Which decompressor an initrd needs, told by its first bytes (the kernel does the same).</summary>
internal static class InitrdCompression
{
    /// <summary>The command that writes the decompressed archive to stdout, or "cat" for a plain cpio.</summary>
    public static string DecompressCommand(ReadOnlySpan<byte> head) => head switch
    {
        [0x1f, 0x8b, ..] => "gzip -dc",
        [0x02, 0x21, 0x4c, 0x18, ..] => "lz4 -dc",    // lz4 legacy frame, the one the kernel reads
        [0x28, 0xb5, 0x2f, 0xfd, ..] => "zstd -dc",
        [(byte)'0', (byte)'7', (byte)'0', (byte)'7', (byte)'0', (byte)'1', ..] => "cat",   // cpio newc
        _ => throw new InvalidDataException($"unknown initrd format, first bytes {Convert.ToHexString(head[..Math.Min(8, head.Length)])}"),
    };
}
