namespace Stencil;

/// <summary>
/// What went wrong, in the terms a caller can act on. Each kind maps to exactly one ttRPC status
/// code (see Stencil.Ttrpc's StatusMapping), so the kind survives a trip across the wire: an agent's
/// NotFound reaches containerd as NotFound.
/// </summary>
public enum ErrorKind
{
    /// <summary>Anything not classified below; a bug or an unexpected OS failure.</summary>
    Internal = 0,
    NotFound,
    AlreadyExists,
    InvalidArgument,
    /// <summary>The object is in the wrong state for the request ("cannot pause task in created state").</summary>
    FailedPrecondition,
    /// <summary>A peer (VM, agent, QEMU, containerd) is gone or not answering.</summary>
    Unavailable,
    DeadlineExceeded,
    Cancelled,
    Unimplemented,
    PermissionDenied,
    ResourceExhausted,
}
