using Stencil.Cli;

// stencil: see Cli.Usage. All the work is in Cli, so tests can run it in-process.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
return await Cli.RunAsync(args, Console.Out, Console.Error, cancel.Token).ConfigureAwait(false);
