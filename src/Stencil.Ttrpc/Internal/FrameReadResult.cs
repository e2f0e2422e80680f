using System.Buffers;

namespace Stencil.Ttrpc.Internal;

/// <summary>
/// One step of the decoder. <see cref="Payload"/> is a slice of the caller's buffer, valid only until
/// the caller advances its reader; it is empty unless <see cref="Kind"/> is <see cref="FrameReadKind.Frame"/>.
/// </summary>
internal readonly record struct FrameReadResult(FrameReadKind Kind, FrameHeader Header, ReadOnlySequence<byte> Payload);
