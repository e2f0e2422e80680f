using System.Text.Json.Serialization;
using Stencil.Oci.Model;

namespace Stencil.Oci.Internal;

// Source-generated (NativeAOT: no reflection). Null members are left out when a spec is written
// back, so a rewritten spec looks like one a runtime would produce.
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, AllowTrailingCommas = false)]
[JsonSerializable(typeof(Spec))]
[JsonSerializable(typeof(Process))]
internal sealed partial class OciJsonContext : JsonSerializerContext;
