namespace Stencil.Bench;

/// <summary>Options every benchmark understands (`--duration S`, `--warmup S`); a benchmark may ignore them.</summary>
public sealed record BenchOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    public static BenchOptions Parse(ReadOnlySpan<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            options = args[i] switch
            {
                "--duration" when i + 1 < args.Length => options with { Duration = Seconds(args[++i], "--duration") },
                "--warmup" when i + 1 < args.Length => options with { Warmup = Seconds(args[++i], "--warmup") },
                _ => throw new ArgumentException($"unknown option {args[i]} (known: --duration S, --warmup S)"),
            };
        }
        return options;
    }

    private static TimeSpan Seconds(string value, string option) =>
        double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var s) && s >= 0
            ? TimeSpan.FromSeconds(s)
            : throw new ArgumentException($"{option} {value}: expected a number of seconds");
}
