using Stencil.Reliability.Load;
using Xunit.Abstractions;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// The short version of `make reliability`'s load (same code, tests/Stencil.Reliability): 10
/// create/delete cycles and 3 pods at once through containerd, with no failure and nothing left
/// behind (QEMU, shims, mounts, sockets, taps, pod state, tmpfs bytes). The table goes to the test output.
/// </summary>
[Collection(StencilCollection.Name)]
public sealed class ReliabilityTests(StencilContainerd s, ITestOutputHelper output)
{
    [Fact]
    public async Task Short_load_has_no_failure_and_leaks_nothing()
    {
        var log = new StringWriter();
        var host = new LoadHost(args => s.Ctr(args), s.Dir, s.Containerd.Directory);
        IReadOnlyList<LoadResult> results;
        try
        {
            results = await LoadRun.RunAsync(host, LoadPlan.Quick, log);
        }
        finally
        {
            output.WriteLine(log.ToString());
        }
        var table = new StringWriter();
        LoadTable.Write(table, results);
        output.WriteLine(table.ToString());
        Assert.All(results, r => Assert.True(r.Passed, $"{r.Scenario}: {r.Failures} failures, leaked {r.Leaked}\n{table}\n{log}"));
        Assert.All(results, r => Assert.True(r.ShimsSeen > 0, $"{r.Scenario}: no shim was sampled\n{table}"));
    }
}
