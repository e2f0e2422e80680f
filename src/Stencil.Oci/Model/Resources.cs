using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stencil.Oci.Model;

public sealed class Resources
{
    [JsonPropertyName("memory")] public MemoryResources? Memory { get; set; }
    [JsonPropertyName("cpu")] public CpuResources? Cpu { get; set; }
    [JsonPropertyName("pids")] public PidsResources? Pids { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class MemoryResources
{
    [JsonPropertyName("limit")] public long? Limit { get; set; }
    [JsonPropertyName("reservation")] public long? Reservation { get; set; }
    [JsonPropertyName("swap")] public long? Swap { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class CpuResources
{
    [JsonPropertyName("shares")] public ulong? Shares { get; set; }
    [JsonPropertyName("quota")] public long? Quota { get; set; }
    [JsonPropertyName("period")] public ulong? Period { get; set; }
    [JsonPropertyName("cpus")] public string? Cpus { get; set; }
    [JsonPropertyName("mems")] public string? Mems { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

public sealed class PidsResources
{
    [JsonPropertyName("limit")] public long Limit { get; set; }
}
