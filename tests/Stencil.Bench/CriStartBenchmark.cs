namespace Stencil.Bench;

/// <summary>
/// Section 1 of <see cref="CriBenchmark"/> alone: RunPodSandbox + CreateContainer + StartContainer until
/// ExecSync answers, runc and each stencil handler interleaved, from template clones and then from the
/// factory daemon's pool. A few minutes instead of the whole CRI benchmark's.
/// </summary>
public sealed class CriStartBenchmark : IBenchmark
{
    public string Name => "cri-start";

    public string Description => "CRI: pod start to first exec, runc vs each stencil handler (template clones, then the pool)";

    public Task RunAsync(BenchOptions options, TextWriter output, CancellationToken cancellationToken) =>
        CriBenchmark.RunSectionsAsync(output, startOnly: true, cancellationToken);
}
