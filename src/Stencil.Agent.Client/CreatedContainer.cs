namespace Stencil.Agent.Client;

/// <summary>What CreateContainer answers: the init's pid in the guest and where the agent spent its time.</summary>
/// <param name="Pid">The init process, in the guest's pid namespace.</param>
/// <param name="GuestSteps">The agent's steps in order, in milliseconds (empty from an agent that does not report them).</param>
public sealed record CreatedContainer(int Pid, IReadOnlyList<(string Name, double Milliseconds)> GuestSteps);
