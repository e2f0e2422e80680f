using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stencil.Oci.Model;

public sealed class Linux
{
    [JsonPropertyName("namespaces")] public List<Namespace>? Namespaces { get; set; }
    [JsonPropertyName("devices")] public List<Device>? Devices { get; set; }
    [JsonPropertyName("resources")] public Resources? Resources { get; set; }
    [JsonPropertyName("cgroupsPath")] public string? CgroupsPath { get; set; }
    [JsonPropertyName("sysctl")] public Dictionary<string, string>? Sysctl { get; set; }
    [JsonPropertyName("maskedPaths")] public List<string>? MaskedPaths { get; set; }
    [JsonPropertyName("readonlyPaths")] public List<string>? ReadonlyPaths { get; set; }
    [JsonPropertyName("seccomp")] public JsonElement? Seccomp { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class Namespace
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("path")] public string? Path { get; set; }
}

public sealed class Device
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("path")] public string? Path { get; set; }
    [JsonPropertyName("major")] public long Major { get; set; }
    [JsonPropertyName("minor")] public long Minor { get; set; }
    [JsonPropertyName("fileMode")] public uint? FileMode { get; set; }
    [JsonPropertyName("uid")] public uint? Uid { get; set; }
    [JsonPropertyName("gid")] public uint? Gid { get; set; }
}
