using System.Diagnostics;
using System.Globalization;
using Stencil.TestSupport;
using Xunit.Abstractions;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// A container that floods its stdout cannot grow the shim's memory without bound: the shim pulls
/// output from the agent one bounded chunk at a time and writes it to containerd's FIFO before it
/// asks for more, so a slow reader slows the guest instead of filling the shim (issue 15, item 2).
/// </summary>
[Collection(StencilCollection.Name)]
public sealed class OutputFloodTests(StencilContainerd s, ITestOutputHelper output)
{
    private const string Id = "e2e-flood";

    /// <summary>The shim's peak RSS may not pass this, whatever the volume (it idles near 20 MiB).</summary>
    private const long MaxShimRssMiB = 160;

    /// <summary>256 MiB by default (about 10 s through a TCG guest); STENCIL_FLOOD_MIB=1024 for the full GiB.</summary>
    private static long FloodMiB =>
        long.TryParse(Environment.GetEnvironmentVariable("STENCIL_FLOOD_MIB"), NumberStyles.None, CultureInfo.InvariantCulture, out var mib) && mib > 0
            ? mib
            : 256;

    [Fact]
    public async Task A_container_writing_hundreds_of_MiB_to_stdout_leaves_the_shim_RSS_bounded()
    {
        var bytes = FloodMiB << 20;
        // The sleep separates the shim's start (VM, container) from the flood in the samples; `wc -c` on
        // ctr's side checks that every byte arrived and keeps the output out of this process.
        // Its own timeout: under TCG on a loaded 2-core machine the flood alone may take minutes.
        var run = ChildProcess.RunAsync("/bin/sh", ["-c", $"ctr --address {s.Containerd.Address} run --rm --runtime {StencilContainerd.Runtime} "
            + $"{StencilContainerd.Image} {Id} sh -c 'sleep 3; head -c {bytes} /dev/zero' | wc -c"], TimeSpan.FromMinutes(Math.Max(10, FloodMiB / 60)));
        var clock = Stopwatch.StartNew();
        var samples = new List<ShimSample>();
        int? shimPid = null;
        while (!run.IsCompleted)
        {
            shimPid ??= FindShim();
            if (shimPid is { } pid)
            {
                if (ShimSample.Read(pid, clock.Elapsed) is { } sample)
                    samples.Add(sample);
                else
                    shimPid = null; // `start` (it exits once the daemon runs), or the daemon exiting
            }
            await Task.WhenAny(run, Task.Delay(50));
        }
        var result = await run;
        var ended = clock.Elapsed;
        try
        {
            Assert.True(result.ExitCode == 0, $"ctr run: {result.Stderr}\n{s.Containerd.ReadLog()}");
            // wc's exit code is the pipeline's: ctr's own failure shows only on its stderr and in the shim's log lines.
            Assert.True(bytes.ToString(CultureInfo.InvariantCulture) == result.Stdout.Trim(),
                $"{result.Stdout.Trim()} of {bytes} bytes arrived; ctr's stderr: {result.Stderr}\ncontainerd's log of the pod:\n{string.Join('\n', s.Containerd.ReadLog().Split('\n').Where(l => l.Contains(Id, StringComparison.Ordinal)).TakeLast(40))}");
            Assert.True(samples.Count > 10, $"only {samples.Count} samples of the shim's /proc were taken");

            // The flood is the last `bytes` the shim wrote (wchar: into containerd's FIFO; its socket reads
            // from the agent are not counted in rchar): it starts at the first sample past that mark.
            var floodStart = samples.FirstOrDefault(x => x.WrittenBytes > samples[^1].WrittenBytes - bytes + (1 << 20)) ?? samples[^1];
            var beforeFlood = samples.TakeWhile(x => x != floodStart).LastOrDefault() ?? samples[0];
            var peak = samples.Max(x => x.PeakRssKiB);
            var seconds = (ended - floodStart.At).TotalSeconds;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"stdout flood of {FloodMiB} MiB: shim max RSS {beforeFlood.PeakRssKiB / 1024.0:F1} MiB before the flood, "
                + $"{peak / 1024.0:F1} MiB at the end (RSS sampled {samples.Min(x => x.RssKiB) / 1024.0:F1}-{samples.Max(x => x.RssKiB) / 1024.0:F1} MiB); "
                + $"{FloodMiB / seconds:F1} MiB/s over {seconds:F1} s; shim CPU {(samples[^1].CpuSeconds - beforeFlood.CpuSeconds):F1} s during the flood; "
                + $"{samples.Count} samples"));
            Assert.True(peak < MaxShimRssMiB * 1024,
                $"the shim's peak RSS reached {peak / 1024} MiB while {FloodMiB} MiB went through it (bound {MaxShimRssMiB} MiB)");
        }
        finally
        {
            await s.Ctr("task", "rm", "-f", Id);
            await s.Ctr("containers", "rm", Id);
        }
        await Eventually.NothingLeftAsync(s);
    }

    private int? FindShim() =>
        s.LeftoverProcesses()
            .Where(p => p.Contains("containerd-shim-stencil-v2", StringComparison.Ordinal) && !p.Contains("qemu", StringComparison.Ordinal))
            .Select(p => (int?)int.Parse(p[..p.IndexOf(':', StringComparison.Ordinal)], CultureInfo.InvariantCulture))
            .FirstOrDefault();

    /// <summary>One reading of the shim's /proc: VmRSS, VmHWM (peak RSS), wchar (bytes it has written) and its CPU time.</summary>
    private sealed record ShimSample(TimeSpan At, long RssKiB, long PeakRssKiB, long WrittenBytes, double CpuSeconds)
    {
        public static ShimSample? Read(int pid, TimeSpan at)
        {
            try
            {
                var status = File.ReadAllLines($"/proc/{pid}/status");
                var io = File.ReadAllLines($"/proc/{pid}/io");
                // utime and stime are fields 14 and 15 of /proc/PID/stat, in clock ticks (100 a second), after the ")" of the name.
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                return new ShimSample(at, Field(status, "VmRSS:"), Field(status, "VmHWM:"), Field(io, "wchar:"), ticks / 100.0);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
            {
                return null; // the shim is exiting
            }
        }

        private static long Field(string[] lines, string name) =>
            long.Parse(lines.First(l => l.StartsWith(name, StringComparison.Ordinal))[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
