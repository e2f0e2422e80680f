using System.Reflection;
using Stencil.Bench;

// Usage: Stencil.Bench NAME [--duration S] [--warmup S] | list
// Exit codes: 0 done, 1 the benchmark failed, 2 usage.
var benchmarks = typeof(IBenchmark).Assembly.GetTypes()
    .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IBenchmark).IsAssignableFrom(t)
        && t.GetConstructor(Type.EmptyTypes) is not null)
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToDictionary(b => b.Name, StringComparer.Ordinal);

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: Stencil.Bench NAME [--duration S] [--warmup S]   |   Stencil.Bench list");
    foreach (var b in benchmarks.Values)
        Console.Error.WriteLine($"  {b.Name,-10} {b.Description}");
    return 2;
}
if (args[0] == "list")
{
    foreach (var name in benchmarks.Keys)
        Console.WriteLine(name);
    return 0;
}
if (!benchmarks.TryGetValue(args[0], out var benchmark))
{
    Console.Error.WriteLine($"unknown benchmark {args[0]}; known: {string.Join(", ", benchmarks.Keys)}");
    return 2;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args.AsSpan(1));
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
try
{
    await benchmark.RunAsync(options, Console.Out, cancel.Token);
    return 0;
}
catch (Exception ex)
{
    Console.Error.WriteLine($"benchmark {benchmark.Name} failed: {ex}");
    return 1;
}
