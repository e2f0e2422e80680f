namespace Stencil.Ttrpc.Internal;

/// <summary>The 10-byte header in front of every ttRPC frame, decoded (see <see cref="FrameCodec"/>).</summary>
internal readonly record struct FrameHeader(uint Length, uint StreamId, FrameType Type, byte Flags)
{
    public override string ToString() =>
        $"stream {StreamId}, type 0x{(byte)Type:x2}, flags 0x{Flags:x2}, length {Length}";
}
