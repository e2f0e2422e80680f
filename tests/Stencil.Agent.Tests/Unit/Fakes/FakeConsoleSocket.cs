using Stencil.Agent.Processes;

namespace Stencil.Agent.Tests.Unit.Fakes;

/// <summary>A console socket no runtime ever connects to: the master never comes.</summary>
internal sealed class FakeConsoleSocket(string path) : IConsoleSocket
{
    public string Path { get; } = path;

    internal bool Disposed { get; private set; }

    public async Task<int> ReceiveMasterAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        return -1;
    }

    public void Dispose() => Disposed = true;
}
