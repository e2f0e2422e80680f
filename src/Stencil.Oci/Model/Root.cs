using System.Text.Json.Serialization;

namespace Stencil.Oci.Model;

public sealed class Root
{
    [JsonPropertyName("path")] public string? Path { get; set; }
    [JsonPropertyName("readonly")] public bool Readonly { get; set; }
}
