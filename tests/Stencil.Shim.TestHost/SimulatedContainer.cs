namespace Stencil.Shim.TestHost;

/// <summary>A container of <see cref="SimulatedPodRuntime"/>: its init and its execs.</summary>
internal sealed class SimulatedContainer(string id, string bundle, SimulatedProcess init)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SimulatedProcess> _execs = new(StringComparer.Ordinal);

    public string Id { get; } = id;

    public string Bundle { get; } = bundle;

    public SimulatedProcess Init { get; } = init;

    public SimulatedProcess Process(string? execId)
    {
        if (execId is null)
            return Init;
        lock (_lock)
        {
            return _execs.TryGetValue(execId, out var exec)
                ? exec
                : throw StencilException.NotFound($"exec {execId} of container {Id} not found");
        }
    }

    public void AddExec(string execId, SimulatedProcess exec)
    {
        lock (_lock)
        {
            if (!_execs.TryAdd(execId, exec))
                throw StencilException.AlreadyExists($"exec {execId} of container {Id} already exists");
        }
    }

    public void RemoveExec(string execId)
    {
        lock (_lock)
            _execs.Remove(execId);
    }

    public IReadOnlyList<(string ExecId, SimulatedProcess Process)> Execs()
    {
        lock (_lock)
            return _execs.Select(e => (e.Key, e.Value)).ToArray();
    }

    public IReadOnlyList<uint> LivePids()
    {
        var all = new List<SimulatedProcess> { Init };
        lock (_lock)
            all.AddRange(_execs.Values);
        return all.Where(p => p.Lifecycle.State is not (Runtime.ProcessState.Created or Runtime.ProcessState.Stopped))
            .Select(p => p.Pid).ToArray();
    }
}
