using System.Text.Json.Serialization;

namespace Stencil.Factory.Internal;

/// <summary>Source-generated JSON (NativeAOT: no reflection) for the files the factory keeps.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(TemplateMetadata))]
[JsonSerializable(typeof(List<HashCacheEntry>))]
internal sealed partial class FactoryJsonContext : JsonSerializerContext;
