using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Stencil.Shim.Start;

/// <summary>
/// What `start` prints for containerd to read (stdout and stderr combined, until EOF). Pure.
/// </summary>
/// <remarks>
/// containerd 1.6 takes the whole output as the shim's address. containerd 1.7 and 2.x (both set
/// MAX_SHIM_VERSION in the shim's environment) also read containerd's bootstrap parameters as JSON,
/// <c>{"version":N,"address":"unix://...","protocol":"ttrpc"}</c>, as their own shims print them: N is
/// the task API containerd then calls, 2 (containerd.task.v2.Task) or 3 (containerd.task.v3.Task,
/// known to 2.x only; 1.7 refuses anything above 2). containerd 2.x still sets MAX_SHIM_VERSION=2, a
/// value it no longer enforces, so the version comes from asking containerd who it is
/// (<see cref="Stencil.Containerd.ContainerdSupport.TaskApiVersion"/>). The shim serves both task APIs.
/// </remarks>
public static class BootstrapAnswer
{
    /// <summary>The environment variable containerd 1.7 and later set for `start`.</summary>
    public const string MaxShimVersionVariable = "MAX_SHIM_VERSION";

    /// <param name="address">"unix:///run/containerd/s/..."</param>
    /// <param name="maxShimVersion">MAX_SHIM_VERSION as containerd set it (null for containerd 1.6).</param>
    /// <param name="taskApiVersion">2 or 3.</param>
    public static string Format(string address, string? maxShimVersion, int taskApiVersion)
    {
        if (string.IsNullOrEmpty(maxShimVersion))
            return address;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("version", taskApiVersion);
            json.WriteString("address", address);
            json.WriteString("protocol", "ttrpc");
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Whether containerd is of the kind that reads JSON (MAX_SHIM_VERSION set to a number).</summary>
    public static bool ReadsJson(string? maxShimVersion) =>
        int.TryParse(maxShimVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 2;
}
