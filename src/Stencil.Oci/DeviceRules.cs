using System.Text.Json;
using Stencil.Oci.Model;

namespace Stencil.Oci;

/// <summary>
/// The cgroup device rules of a spec (linux.resources.devices), read as the OCI runtime applies them:
/// in order, the last matching rule wins; an absent, null or -1 major/minor matches any number; an
/// absent type is "a" (all), an absent or empty access is "rwm". Pure.
/// </summary>
public static class DeviceRules
{
    /// <summary>The rules array, or null when the spec has none.</summary>
    public static JsonElement? Of(Linux linux) =>
        linux.Resources?.Extra is { } extra && extra.TryGetValue("devices", out var rules) && rules.ValueKind == JsonValueKind.Array
            ? rules
            : null;

    /// <summary>
    /// Is there a rule allowing every device (all types, any numbers, rwm)? containerd writes one for a
    /// privileged container (with every host device in linux.devices, unless the runtime has
    /// privileged_without_host_devices), and so does ctr run --privileged.
    /// </summary>
    public static bool AllowsEveryDevice(Linux linux) =>
        Of(linux) is { } rules && rules.EnumerateArray().Any(rule => rule.ValueKind == JsonValueKind.Object
            && rule.TryGetProperty("allow", out var allow) && allow.ValueKind == JsonValueKind.True
            && Text(rule, "type") is null or "a"
            && IsWildcard(rule, "major") && IsWildcard(rule, "minor")
            && Text(rule, "access") is null or "" or "rwm");

    /// <summary>May the container write block device major:minor? No rules at all: nothing restricts it.</summary>
    public static bool AllowsBlockWrite(Linux linux, long major, long minor)
    {
        if (Of(linux) is not { } rules)
            return true;
        var write = false;
        foreach (var rule in rules.EnumerateArray())
        {
            if (rule.ValueKind != JsonValueKind.Object)
                continue;
            if (Text(rule, "type") is not (null or "a" or "b") || !Matches(rule, "major", major) || !Matches(rule, "minor", minor))
                continue;
            var access = Text(rule, "access");
            if (string.IsNullOrEmpty(access) || access.Contains('w'))
                write = rule.TryGetProperty("allow", out var allow) && allow.ValueKind == JsonValueKind.True;
        }
        return write;
    }

    private static string? Text(JsonElement rule, string name) =>
        rule.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool IsWildcard(JsonElement rule, string name) =>
        !rule.TryGetProperty(name, out var n) || n.ValueKind != JsonValueKind.Number || (n.TryGetInt64(out var v) && v == -1);

    private static bool Matches(JsonElement rule, string name, long value) =>
        IsWildcard(rule, name) || (rule.TryGetProperty(name, out var n) && n.TryGetInt64(out var v) && v == value);
}
