namespace Stencil.Shim.Flags;

/// <summary>
/// Parses the command line with Go's flag package rules, because containerd builds it for Go shims:
/// `-name value`, `-name=value`, `--name` the same as `-name`, boolean flags without a value
/// (`-debug`, or `-debug=false`), parsing stops at the first non-flag argument (the action) or
/// at `--`. Pure: every mistake is an InvalidArgument naming the flag, never a crash.
/// </summary>
internal static class FlagParser
{
    private static readonly string[] s_boolFlags = ["debug", "v", "h", "help"];
    private static readonly string[] s_stringFlags = ["namespace", "address", "publish-binary", "id", "bundle", "socket", "config"];

    public const string Usage =
        "usage: containerd-shim-stencil-v2 -namespace NS -address SOCKET -publish-binary BINARY -id ID [-debug] [-bundle DIR] start|delete";

    public static ShimFlags Parse(IReadOnlyList<string> args)
    {
        var flags = new ShimFlags();
        bool version = false, help = false;
        var i = 0;
        for (; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg.Length < 2 || arg[0] != '-')
                break; // the first non-flag argument ends the flags ("-" alone too, as in Go)
            var dashes = arg[1] == '-' ? 2 : 1;
            if (dashes == 2 && arg.Length == 2)
            {
                i++; // "--" ends the flags and is consumed
                break;
            }
            var body = arg[dashes..];
            if (body.Length == 0 || body[0] == '-' || body[0] == '=')
                throw StencilException.InvalidArgument($"bad flag syntax: {arg}");
            string name;
            string? value = null;
            var eq = body.IndexOf('=');
            if (eq >= 0)
            {
                name = body[..eq];
                value = body[(eq + 1)..];
            }
            else
            {
                name = body;
            }

            if (Array.IndexOf(s_boolFlags, name) >= 0)
            {
                var on = value is null || ParseBool(value, name);
                switch (name)
                {
                    case "debug": flags = flags with { Debug = on }; break;
                    case "v": version = on; break;
                    default: help = on; break;
                }
                continue;
            }
            if (Array.IndexOf(s_stringFlags, name) < 0)
                throw StencilException.InvalidArgument($"flag provided but not defined: -{name}");
            if (value is null)
            {
                if (i + 1 >= args.Count)
                    throw StencilException.InvalidArgument($"flag needs an argument: -{name}");
                value = args[++i];
            }
            flags = name switch
            {
                "namespace" => flags with { Namespace = value },
                "address" => flags with { Address = value },
                "publish-binary" => flags with { PublishBinary = value },
                "id" => flags with { Id = value },
                "bundle" => flags with { Bundle = value },
                "socket" => flags with { Socket = value },
                _ => flags with { Config = value },
            };
        }

        if (help)
            return flags with { Action = ShimAction.Help };
        if (version)
            return flags with { Action = ShimAction.Version };
        if (i >= args.Count)
            throw StencilException.InvalidArgument("no action given: expected start or delete");
        var action = args[i] switch
        {
            "start" => ShimAction.Start,
            "delete" => ShimAction.Delete,
            "serve" => ShimAction.Serve,
            var other => throw StencilException.InvalidArgument($"unknown action \"{other}\": expected start or delete"),
        };
        if (i + 1 < args.Count)
            throw StencilException.InvalidArgument($"unexpected argument \"{args[i + 1]}\" after the action {args[i]}");
        flags = flags with { Action = action };
        if (flags.Namespace.Length == 0)
            throw StencilException.InvalidArgument("-namespace is required (the shim's namespace cannot be empty)");
        if (flags.Id.Length == 0)
            throw StencilException.InvalidArgument("-id is required");
        return flags;
    }

    /// <summary>Go's strconv.ParseBool.</summary>
    private static bool ParseBool(string value, string name) => value switch
    {
        "1" or "t" or "T" or "true" or "TRUE" or "True" => true,
        "0" or "f" or "F" or "false" or "FALSE" or "False" => false,
        _ => throw StencilException.InvalidArgument($"invalid boolean value \"{value}\" for -{name}: expected true or false"),
    };
}
