namespace Stencil.Hypervisor.Internal;

/// <summary>The one mapping from a QMP error reply to the project's error type.</summary>
internal static class QmpErrors
{
    public static StencilException FromReply(string command, string errorClass, string description)
    {
        var kind = errorClass switch
        {
            "CommandNotFound" => ErrorKind.Unimplemented,
            "DeviceNotFound" => ErrorKind.NotFound,
            "DeviceNotActive" or "KVMMissingCap" => ErrorKind.FailedPrecondition,
            _ => ErrorKind.Internal,
        };
        var message = errorClass == "GenericError"
            ? $"qemu command '{command}' failed: {description}"
            : $"qemu command '{command}' failed ({errorClass}): {description}";
        return new StencilException(kind, message);
    }
}
