using System.Diagnostics;

namespace Stencil.Reliability.Fuzz;

/// <summary>
/// Runs a target over its seeds unchanged, then over <c>iterations</c> mutated inputs. The oracle: an
/// exception the target does not call expected is a crash; an input that allocates more than
/// <see cref="FuzzLimits.MaxAllocatedBytes"/> or takes longer than <see cref="FuzzLimits.MaxTime"/> is
/// over its limit. A seed that is refused at all is a broken harness, reported as a crash.
/// </summary>
public static class FuzzRunner
{
    /// <summary>At most this many distinct findings are kept per target (the count goes on).</summary>
    public const int MaxFindings = 10;

    public static FuzzResult Run(IFuzzTarget target, int iterations, int seed, FuzzLimits limits, string? crashFolder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(limits);
        var random = new Random(seed);
        var mutator = new Mutator(target.Seeds, target.Dictionary, random);
        var findings = new List<FuzzFinding>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int crashes = 0, overLimit = 0, refused = 0, done = 0;
        long maxAllocated = 0;
        var maxTime = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();

        for (var i = -target.Seeds.Count; i < iterations && !cancellationToken.IsCancellationRequested; i++)
        {
            var isSeed = i < 0;
            var input = isSeed ? target.Seeds[i + target.Seeds.Count] : mutator.Next();
            // Chunking and other choices inside the run come from their own generator, seeded per
            // input, so a finding replays from its bytes and iteration alone.
            var runRandom = isSeed ? null : new Random(unchecked((seed * 1_000_003) + i)); // not HashCode: it is salted per process
            var before = GC.GetAllocatedBytesForCurrentThread();
            var start = Stopwatch.GetTimestamp();
            string? crash = null;
            try
            {
                target.Run(input, runRandom);
            }
            catch (Exception ex) when (!isSeed && target.IsExpected(ex))
            {
                refused++;
            }
            catch (Exception ex)
            {
                crash = isSeed ? $"seed {i + target.Seeds.Count} was refused: {Describe(ex)}" : Describe(ex);
            }
            var elapsed = Stopwatch.GetElapsedTime(start);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            done++;
            maxAllocated = Math.Max(maxAllocated, allocated);
            if (elapsed > maxTime)
                maxTime = elapsed;

            string? finding = null;
            if (crash is not null)
            {
                crashes++;
                finding = crash;
            }
            else if (allocated > limits.MaxAllocatedBytes || elapsed > limits.MaxTime)
            {
                overLimit++;
                finding = $"over the limit: {allocated / 1024.0 / 1024:0.0} MiB allocated, {elapsed.TotalMilliseconds:0} ms";
            }
            if (finding is not null && findings.Count < MaxFindings && seen.Add(Signature(finding)))
            {
                findings.Add(new FuzzFinding(i, finding, input));
                if (crashFolder is not null)
                {
                    Directory.CreateDirectory(crashFolder);
                    File.WriteAllBytes(Path.Combine(crashFolder, $"{target.Name}-{seed}-{i}.bin"), input);
                }
            }
        }
        return new FuzzResult(target.Name, done, clock.Elapsed, crashes, overLimit, maxAllocated, maxTime, refused, findings);
    }

    /// <summary>The exception's type, message and the frame that threw it: enough to fix it, one finding per place.</summary>
    private static string Describe(Exception ex)
    {
        var frame = ex.StackTrace?.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "(no stack)";
        return $"{ex.GetType().FullName}: {ex.Message} {frame}";
    }

    /// <summary>What makes two findings the same bug: the exception type and where it was thrown (messages carry values).</summary>
    private static string Signature(string finding)
    {
        var at = finding.LastIndexOf(" at ", StringComparison.Ordinal);
        var type = finding.Split(':')[0];
        return at < 0 ? (finding.StartsWith("over the limit", StringComparison.Ordinal) ? "limit" : finding) : type + finding[at..];
    }
}
