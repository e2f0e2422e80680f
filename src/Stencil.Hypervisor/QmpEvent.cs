using System.Text.Json;

namespace Stencil.Hypervisor;

/// <summary>An asynchronous QMP event ("STOP", "DEVICE_DELETED", "SHUTDOWN", ...) with its data, if any.</summary>
public sealed record QmpEvent(string Name, JsonElement Data, DateTimeOffset Timestamp);
