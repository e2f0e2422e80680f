using System.Text;
using System.Text.Json;

namespace Stencil.Agent.Containers;

/// <summary>
/// Reads the runtime's JSON log (one object per line: {"level":"error","msg":"...","time":"..."}
/// for runc; crun writes the same members in another order). Pure.
/// </summary>
internal static class OciLog
{
    /// <summary>The last error-level message, or else the last message, or null.</summary>
    internal static string? LastError(ReadOnlySpan<byte> log)
    {
        string? lastError = null;
        string? last = null;
        while (!log.IsEmpty)
        {
            var end = log.IndexOf((byte)'\n');
            var line = end < 0 ? log : log[..end];
            log = end < 0 ? [] : log[(end + 1)..];
            if (TryParse(line, out var level, out var msg) && msg is not null)
            {
                last = msg;
                if (level is "error" or "fatal" or "panic")
                    lastError = msg;
            }
            else if (line.Trim((byte)' ').Length > 0)
            {
                // Not JSON (an old runtime, or a panic trace): keep it as text.
                last = Encoding.UTF8.GetString(line).Trim();
            }
        }
        return lastError ?? last;
    }

    private static bool TryParse(ReadOnlySpan<byte> line, out string? level, out string? msg)
    {
        level = null;
        msg = null;
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && name is "level" or "msg")
                {
                    if (name == "level")
                        level = reader.GetString();
                    else
                        msg = reader.GetString();
                }
                else
                {
                    reader.Skip();
                }
            }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
