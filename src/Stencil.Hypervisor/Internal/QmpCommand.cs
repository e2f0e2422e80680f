using System.Text.Json;

namespace Stencil.Hypervisor.Internal;

/// <summary>
/// One QMP command before it has an id: its name and a writer for the properties of its "arguments"
/// object (null sends none). Built by <see cref="QmpCommands"/>; the client numbers and sends it.
/// </summary>
internal sealed class QmpCommand(string name, Action<Utf8JsonWriter>? arguments = null)
{
    public string Name { get; } = name;

    public Action<Utf8JsonWriter>? Arguments { get; } = arguments;

    /// <summary>The exact line QEMU receives when this command is sent with <paramref name="id"/>.</summary>
    public byte[] Encode(long id) => QmpRequest.Encode(Name, id, Arguments);
}
