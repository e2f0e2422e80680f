using Tomlyn.Model;
using Tomlyn.Serialization;

namespace Stencil.Runtime.Configuration;

/// <summary>
/// Source-generated Tomlyn metadata for the untyped document model only: the file is read into a
/// TomlTable and mapped by hand (<see cref="ConfigSchema"/>), which keeps NativeAOT free of reflection.
/// </summary>
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class ConfigTomlContext : TomlSerializerContext
{
}
