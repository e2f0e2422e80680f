using Google.Protobuf;

namespace Stencil.Ttrpc.Internal;

/// <summary>A frame waiting in <see cref="FrameWriter"/>'s queue. <see cref="PayloadLength"/> is the
/// message's size, computed once by the sender (which also checked it against the limit).</summary>
internal readonly record struct OutboundFrame(uint StreamId, FrameType Type, IMessage Message, int PayloadLength);
