using Stencil.Ttrpc.Wire;

namespace Stencil.Ttrpc.Internal;

/// <summary>
/// The one place where <see cref="ErrorKind"/> and google.rpc codes meet, in both directions, so a
/// kind survives a trip across the wire (an agent's NotFound reaches containerd as NotFound).
/// </summary>
internal static class StatusMapping
{
    public static RpcCode ToCode(ErrorKind kind) => kind switch
    {
        ErrorKind.NotFound => RpcCode.NotFound,
        ErrorKind.AlreadyExists => RpcCode.AlreadyExists,
        ErrorKind.InvalidArgument => RpcCode.InvalidArgument,
        ErrorKind.FailedPrecondition => RpcCode.FailedPrecondition,
        ErrorKind.Unavailable => RpcCode.Unavailable,
        ErrorKind.DeadlineExceeded => RpcCode.DeadlineExceeded,
        ErrorKind.Cancelled => RpcCode.Cancelled,
        ErrorKind.Unimplemented => RpcCode.Unimplemented,
        ErrorKind.PermissionDenied => RpcCode.PermissionDenied,
        ErrorKind.ResourceExhausted => RpcCode.ResourceExhausted,
        _ => RpcCode.Internal,
    };

    /// <summary>
    /// The kind for a code received from a peer. Codes the project has no kind for go to the nearest
    /// one a caller would act on the same way (Aborted: the state was wrong; OutOfRange: the argument
    /// was; Unauthenticated: access denied); Unknown, DataLoss and unknown numbers are Internal.
    /// </summary>
    public static ErrorKind ToKind(int code) => (RpcCode)code switch
    {
        RpcCode.Cancelled => ErrorKind.Cancelled,
        RpcCode.InvalidArgument => ErrorKind.InvalidArgument,
        RpcCode.DeadlineExceeded => ErrorKind.DeadlineExceeded,
        RpcCode.NotFound => ErrorKind.NotFound,
        RpcCode.AlreadyExists => ErrorKind.AlreadyExists,
        RpcCode.PermissionDenied => ErrorKind.PermissionDenied,
        RpcCode.ResourceExhausted => ErrorKind.ResourceExhausted,
        RpcCode.FailedPrecondition => ErrorKind.FailedPrecondition,
        RpcCode.Aborted => ErrorKind.FailedPrecondition,
        RpcCode.OutOfRange => ErrorKind.InvalidArgument,
        RpcCode.Unimplemented => ErrorKind.Unimplemented,
        RpcCode.Unavailable => ErrorKind.Unavailable,
        RpcCode.Unauthenticated => ErrorKind.PermissionDenied,
        _ => ErrorKind.Internal,
    };

    public static Status ToStatus(RpcCode code, string message) => new() { Code = (int)code, Message = message };

    /// <summary>
    /// The status a server answers when a handler for <paramref name="fullMethod"/> threw.
    /// Cancellation becomes DeadlineExceeded when the call's own deadline is what fired.
    /// </summary>
    public static Status FromException(Exception ex, string fullMethod, bool deadlinePassed) => ex switch
    {
        StencilException se => ToStatus(ToCode(se.Kind), se.Message),
        OperationCanceledException when deadlinePassed =>
            ToStatus(RpcCode.DeadlineExceeded, $"{fullMethod}: deadline exceeded"),
        OperationCanceledException => ToStatus(RpcCode.Cancelled, $"{fullMethod}: cancelled"),
        TimeoutException => ToStatus(RpcCode.DeadlineExceeded, $"{fullMethod}: {ex.Message}"),
        _ => ToStatus(RpcCode.Internal, $"{fullMethod}: {ex.GetType().Name}: {ex.Message}"),
    };

    /// <summary>The longest status message a client repeats; a peer's longer text is cut (it ends up in logs and in containerd's errors).</summary>
    public const int MaxStatusMessageLength = 4096;

    /// <summary>What a client throws for a non-OK status: the kind mapped back, the server's message
    /// (at most <see cref="MaxStatusMessageLength"/> characters of it).</summary>
    public static StencilException ToException(Status status, string fullMethod)
    {
        var message = string.IsNullOrEmpty(status.Message)
            ? $"{fullMethod} failed with status {(RpcCode)status.Code} ({status.Code})"
            : status.Message.Length <= MaxStatusMessageLength
                ? status.Message
                : $"{status.Message[..MaxStatusMessageLength]}... (cut; {status.Message.Length} characters in all)";
        return new StencilException(ToKind(status.Code), message);
    }
}
