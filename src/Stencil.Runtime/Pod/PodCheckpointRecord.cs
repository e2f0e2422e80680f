using System.Text.Json.Serialization;
using Stencil.Factory;

namespace Stencil.Runtime.Pod;

/// <summary>stencil-checkpoint.json: what the runtime needs to serve a checkpointed pod again.</summary>
public sealed record PodCheckpointRecord
{
    public int Format { get; init; }

    public required string ContainerId { get; init; }

    /// <summary>The container was paused (frozen in the guest) when saved: Start after restore thaws it.</summary>
    public bool Paused { get; init; }

    public bool Terminal { get; init; }

    public required string RootfsSerial { get; init; }

    public long RootfsBytes { get; init; }

    public required VmCheckpoint Vm { get; init; }

    /// <summary>SHA-256 of each file of the checkpoint, by name.</summary>
    public required Dictionary<string, string> Files { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PodCheckpointRecord))]
internal sealed partial class CheckpointJsonContext : JsonSerializerContext;
