namespace Stencil.Ttrpc.Internal;

/// <summary>
/// The message type byte of a ttRPC frame header. ttRPC 1.1 knows only these two; any other value
/// arriving on the wire is kept as is (an enum can hold it) so it can be reported and skipped.
/// </summary>
internal enum FrameType : byte
{
    Request = 1,
    Response = 2,
}
