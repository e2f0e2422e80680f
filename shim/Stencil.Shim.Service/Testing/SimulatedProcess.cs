using Stencil.Runtime;
using Stencil.Runtime.Lifecycle;

namespace Stencil.Shim.Testing;

/// <summary>A process of <see cref="SimulatedPodRuntime"/>; nothing is executed.</summary>
internal sealed class SimulatedProcess(string what, StdioPaths stdio, IReadOnlyList<string> args)
{
    public ProcessLifecycle Lifecycle { get; } = new(what);

    public StdioPaths Stdio { get; } = stdio;

    public uint Pid { get; private set; }

    /// <summary>"true" exits 0 and "false" exits 1 as soon as they start; anything else runs until killed.</summary>
    public uint? ExitsByItself { get; } = args.Count == 0 ? null : Path.GetFileName(args[0]) switch
    {
        "true" => 0u,
        "false" => 1u,
        _ => null,
    };

    public uint AssignPid(uint pid) => Pid = pid;
}
