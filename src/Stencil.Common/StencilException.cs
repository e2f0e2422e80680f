namespace Stencil;

/// <summary>
/// The project's one error type. The message says what was wrong and with which value
/// ("container \"abc\" not found", "memory_mb = -3: must be positive").
/// </summary>
public sealed class StencilException : Exception
{
    public StencilException(ErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
    }

    public ErrorKind Kind { get; }

    public static StencilException NotFound(string message) => new(ErrorKind.NotFound, message);
    public static StencilException AlreadyExists(string message) => new(ErrorKind.AlreadyExists, message);
    public static StencilException InvalidArgument(string message) => new(ErrorKind.InvalidArgument, message);
    public static StencilException FailedPrecondition(string message) => new(ErrorKind.FailedPrecondition, message);
    public static StencilException Unavailable(string message, Exception? inner = null) => new(ErrorKind.Unavailable, message, inner);
    public static StencilException Internal(string message, Exception? inner = null) => new(ErrorKind.Internal, message, inner);
    public static StencilException Unimplemented(string message) => new(ErrorKind.Unimplemented, message);

    /// <summary>
    /// The kind of any exception: StencilException keeps its own; cancellation and timeouts get theirs;
    /// everything else is Internal.
    /// </summary>
    public static ErrorKind KindOf(Exception ex) => ex switch
    {
        StencilException se => se.Kind,
        OperationCanceledException => ErrorKind.Cancelled,
        TimeoutException => ErrorKind.DeadlineExceeded,
        _ => ErrorKind.Internal,
    };

    public override string ToString() => $"{Kind}: {Message}";
}
