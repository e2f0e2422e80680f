using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stencil.Oci.Model;

/// <summary>
/// The OCI runtime-spec configuration (config.json), the subset Stencil reads. Every object keeps
/// the members it does not model in <c>Extra</c>, so a spec rewritten for the guest loses nothing.
/// </summary>
public sealed class Spec
{
    [JsonPropertyName("ociVersion")] public string? OciVersion { get; set; }
    [JsonPropertyName("process")] public Process? Process { get; set; }
    [JsonPropertyName("root")] public Root? Root { get; set; }
    [JsonPropertyName("hostname")] public string? Hostname { get; set; }
    [JsonPropertyName("domainname")] public string? Domainname { get; set; }
    [JsonPropertyName("mounts")] public List<Mount>? Mounts { get; set; }
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; set; }
    [JsonPropertyName("linux")] public Linux? Linux { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}
