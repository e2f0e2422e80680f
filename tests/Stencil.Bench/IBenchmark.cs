namespace Stencil.Bench;

/// <summary>
/// One benchmark, run by name (`Stencil.Bench NAME [options]`). Program discovers every public
/// non-abstract implementation with a parameterless constructor, so a new benchmark is one new file.
/// </summary>
public interface IBenchmark
{
    /// <summary>The command-line name ("ttrpc", "vm", ...).</summary>
    string Name { get; }

    /// <summary>One line for `list` and usage.</summary>
    string Description { get; }

    /// <summary>Runs and prints results to <paramref name="output"/>; throws to fail (exit code 1).</summary>
    Task RunAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken);
}
