using System.Buffers;

namespace Stencil.Ttrpc.Internal;

/// <summary>What a connection does with the frames <see cref="FrameReader"/> decodes. Called on the
/// reader's loop, one frame at a time: implementations must not block.</summary>
internal interface IFrameHandler
{
    /// <summary>A whole request or response frame. The payload is valid only during the call.</summary>
    void OnFrame(in FrameHeader header, in ReadOnlySequence<byte> payload);

    /// <summary>
    /// The header of a frame whose body will be skipped (<see cref="FrameReadKind.Oversized"/> or
    /// <see cref="FrameReadKind.UnsupportedType"/>), before any of the body is waited for. A non-null
    /// result stops the reader with that reason instead of skipping.
    /// </summary>
    string? OnRejected(in FrameHeader header, FrameReadKind kind);

    /// <summary>A frame whose body was skipped (<see cref="FrameReadKind.Oversized"/> or
    /// <see cref="FrameReadKind.UnsupportedType"/>); called once the body is gone.</summary>
    void OnSkipped(in FrameHeader header, FrameReadKind kind);
}
