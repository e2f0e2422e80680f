namespace Stencil.Runtime.Pod;

/// <summary>A pod start's phases up to its first container's create (see <see cref="StartTimeline"/>).</summary>
/// <param name="CreateBegan">When the first Create arrived.</param>
internal sealed record PendingStart(DateTimeOffset CreateBegan, string VmSource, double VmMs, double StorageMs, double GuestCreateMs);
