using Stencil.Reliability.Fuzz.Targets;

namespace Stencil.Reliability.Fuzz;

/// <summary>Every fuzz target by name, in the order the table lists them.</summary>
public static class FuzzTargets
{
    public static IReadOnlyList<string> Names { get; } = ["oci", "toml", "qmp", "ttrpc"];

    /// <summary>The targets <paramref name="name"/> selects: one, or all of them for "all".</summary>
    public static IReadOnlyList<IFuzzTarget> Select(string name) => name switch
    {
        "all" => [.. Names.Select(Create)],
        _ when Names.Contains(name) => [Create(name)],
        _ => throw new ArgumentException($"unknown fuzz target {name}; known: {string.Join(", ", Names)}, all"),
    };

    private static IFuzzTarget Create(string name) => name switch
    {
        "oci" => new OciSpecTarget(),
        "toml" => new TomlConfigTarget(),
        "qmp" => new QmpReaderTarget(),
        _ => new TtrpcDecoderTarget(),
    };
}
