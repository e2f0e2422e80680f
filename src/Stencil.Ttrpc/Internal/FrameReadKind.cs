namespace Stencil.Ttrpc.Internal;

/// <summary>What <see cref="FrameCodec.TryReadFrame"/> found at the start of the buffer.</summary>
internal enum FrameReadKind
{
    /// <summary>A whole request or response frame; its payload is in the result.</summary>
    Frame,

    /// <summary>
    /// A request or response header whose length is over the limit. Only the header was consumed: the
    /// reader must skip <see cref="FrameHeader.Length"/> bytes without buffering them, then answer on
    /// the stream id (as containerd/ttrpc does, with ResourceExhausted).
    /// </summary>
    Oversized,

    /// <summary>
    /// A header with a type ttRPC 1.1 does not know but a plausible length. Only the header was
    /// consumed: the reader skips the body and may answer on the stream id.
    /// </summary>
    UnsupportedType,

    /// <summary>
    /// A header that cannot belong to a ttRPC peer (stream id 0, or an unknown type with a length over
    /// the limit, e.g. someone speaking HTTP). The byte stream is out of step: close the connection.
    /// Nothing was consumed.
    /// </summary>
    Malformed,
}
