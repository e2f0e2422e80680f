namespace Stencil.Agent.Pod;

/// <summary>A sandbox created with pod namespaces: its id, the namespace holder's pid, the folder of its files.</summary>
internal sealed record PodState(string SandboxId, int HolderPid, string FilesDir);
