using System.Buffers;
using System.Text.Json;

namespace Stencil.Hypervisor.Internal;

/// <summary>Encodes one QMP command line. Pure; arguments are written by a callback (no reflection).</summary>
internal static class QmpRequest
{
    /// <summary>
    /// {"execute":COMMAND,"arguments":{...},"id":ID}\n. <paramref name="writeArguments"/> writes the
    /// properties of the arguments object; null sends no "arguments".
    /// </summary>
    public static byte[] Encode(string command, long id, Action<Utf8JsonWriter>? writeArguments)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("execute", command);
            if (writeArguments is not null)
            {
                writer.WriteStartObject("arguments");
                writeArguments(writer);
                writer.WriteEndObject();
            }
            writer.WriteNumber("id", id);
            writer.WriteEndObject();
        }
        var bytes = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(bytes);
        bytes[^1] = (byte)'\n';
        return bytes;
    }
}
