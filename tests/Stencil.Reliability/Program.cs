using Stencil.Reliability;

// Usage: Stencil.Reliability fuzz ... | load ...   (see FuzzCommand.Usage, LoadCommand.Usage)
// Exit codes: 0 all passed, 1 a crash, a leak or a failure, 2 usage.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
try
{
    return args.FirstOrDefault() switch
    {
        "fuzz" => FuzzCommand.Run(args.AsSpan(1), Console.Out, cancel.Token),
        "load" => await LoadCommand.RunAsync(args.AsSpan(1).ToArray(), Console.Out, cancel.Token),
        _ => throw new ArgumentException($"usage: Stencil.Reliability {FuzzCommand.Usage}\n       Stencil.Reliability {LoadCommand.Usage}"),
    };
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
