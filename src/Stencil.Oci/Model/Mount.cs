using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stencil.Oci.Model;

public sealed class Mount
{
    [JsonPropertyName("destination")] public string? Destination { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("source")] public string? Source { get; set; }
    [JsonPropertyName("options")] public List<string>? Options { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    /// <summary>A bind mount of a host path: type "bind", or an option "bind"/"rbind".</summary>
    [JsonIgnore]
    public bool IsBind => Type == "bind" || (Options?.Exists(o => o is "bind" or "rbind") ?? false);
}
