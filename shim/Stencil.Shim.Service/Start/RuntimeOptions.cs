using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Stencil.Shim.Start;

/// <summary>
/// The runtime options containerd writes to `start`'s stdin: a marshalled google.protobuf.Any whose
/// type URL is the bare name "runtimeoptions.v1.Options" (CRI's runtimes.X.options). Any.Unpack
/// rejects bare type names, so the Any is read field by field here.
/// </summary>
internal static class RuntimeOptions
{
    public const string TypeName = "runtimeoptions.v1.Options";

    /// <summary>
    /// The config_path in the options, or null when there are no options or they are of another type
    /// (containerd passes whatever the runtime's section holds; only this type carries a config path).
    /// Malformed bytes are an InvalidArgument.
    /// </summary>
    public static string? ConfigPath(ReadOnlySpan<byte> stdin)
    {
        if (stdin.IsEmpty)
            return null;
        Any any;
        Protocols.RuntimeOptions.Options options;
        try
        {
            any = Any.Parser.ParseFrom(stdin);
            var name = any.TypeUrl[(any.TypeUrl.LastIndexOf('/') + 1)..];
            if (name != TypeName)
                return null;
            options = Protocols.RuntimeOptions.Options.Parser.ParseFrom(any.Value);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw StencilException.InvalidArgument($"runtime options on stdin ({stdin.Length} bytes) are not a marshalled {TypeName} Any: {ex.Message}");
        }
        return options.ConfigPath.Length == 0 ? null : options.ConfigPath;
    }
}
