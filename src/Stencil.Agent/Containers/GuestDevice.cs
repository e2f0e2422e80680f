namespace Stencil.Agent.Containers;

/// <summary>A device node as the guest knows it: the container path it is for, and the guest's major/minor.</summary>
internal sealed record GuestDevice(string ContainerPath, long Major, long Minor);
