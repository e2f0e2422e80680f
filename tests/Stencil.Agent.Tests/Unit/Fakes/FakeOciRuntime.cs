using Stencil.Agent.Containers;
using Stencil.Agent.Processes;

namespace Stencil.Agent.Tests.Unit.Fakes;

/// <summary>
/// crun as the manager sees it: each call's command line is kept (without the global flags), a
/// create or exec writes a pid file as crun does, and a verb listed in <see cref="Failing"/> fails
/// with the message OciRuntime gives a failed command.
/// </summary>
internal sealed class FakeOciRuntime(string name, FakeContainerSyscalls syscalls) : IOciRuntime
{
    // Binary, --root, STATE, --log, LOG, --log-format, json: then the verb.
    private const int GlobalArguments = 7;
    private readonly object _lock = new();
    private readonly List<string> _calls = [];
    private int _nextPid = 100;

    public string Name { get; } = name;

    /// <summary>Verbs ("create", "start", ...) whose command fails.</summary>
    internal HashSet<string> Failing { get; } = new(StringComparer.Ordinal);

    /// <summary>Called with the verb after a successful command (a delete can make the init exit).</summary>
    internal Action<string>? OnSuccess { get; set; }

    /// <summary>The pid the next create or exec writes to its pid file.</summary>
    internal int NextPid => _nextPid;

    internal IReadOnlyList<string> Calls
    {
        get
        {
            lock (_lock)
                return [.. _calls];
        }
    }

    public async Task<OciResult> RunAsync(string what, Func<OciCommandLine, IReadOnlyList<string>> command, string logDir,
        ChildStdio? stdio, CancellationToken cancellationToken)
    {
        var argv = command(new OciCommandLine($"/usr/bin/{Name}", $"/run/stencil/oci/{Name}", Path.Combine(logDir, "runtime-1.log")));
        var verb = argv[GlobalArguments];
        lock (_lock)
            _calls.Add(string.Join(' ', argv.Skip(GlobalArguments)));
        if (Failing.Contains(verb))
            throw StencilException.Internal($"{Name} {what} failed: simulated failure");
        if (verb is "create" or "exec")
        {
            var pidFile = argv[argv.ToList().IndexOf("--pid-file") + 1];
            await syscalls.WriteTextAsync(pidFile, $"{_nextPid++}", cancellationToken).ConfigureAwait(false);
        }
        OnSuccess?.Invoke(verb);
        return new OciResult("");
    }

    /// <summary>Always false: the fake's `start` command line is what tests look at.</summary>
    public bool TryStartDirectly(string id) => false;
}
