namespace Stencil.Agent.Pod;

/// <summary>One sysctl, by its dotted name.</summary>
internal readonly record struct Sysctl(string Key, string Value);
