using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Stencil.Cli;

/// <summary>
/// What `stencil env` prints: named sections of keys and values (string, long, double or bool; null:
/// not known, left out of the TOML and null in the JSON), in order. Rendering is pure.
/// </summary>
internal sealed class EnvReport
{
    private readonly List<(string Name, List<(string Key, object? Value)> Entries)> _sections = [];

    /// <summary>Adds a section ("Hypervisor", or a dotted one such as "Config.factory") and returns it for its entries.</summary>
    public List<(string Key, object? Value)> Section(string name)
    {
        var entries = new List<(string Key, object? Value)>();
        _sections.Add((name, entries));
        return entries;
    }

    /// <summary>TOML, as `kata-runtime env` prints it: one table per section.</summary>
    public string ToToml()
    {
        var text = new StringBuilder();
        foreach (var (name, entries) in _sections)
        {
            if (text.Length > 0)
                text.Append('\n');
            text.Append('[').Append(name).Append("]\n");
            foreach (var (key, value) in entries)
            {
                if (value is null)
                    continue;
                text.Append("  ").Append(TomlKey(key)).Append(" = ").Append(TomlValue(value)).Append('\n');
            }
        }
        return text.ToString();
    }

    /// <summary>JSON: an object per section; a dotted section name nests ("Config.factory" is Config's "factory").</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            string? open = null;
            for (var i = 0; i < _sections.Count; i++)
            {
                var (name, entries) = _sections[i];
                var dot = name.IndexOf('.', StringComparison.Ordinal);
                var parent = dot < 0 ? null : name[..dot];
                if (open is not null && open != parent)
                {
                    json.WriteEndObject();
                    open = null;
                }
                if (parent is not null && open is null)
                {
                    json.WriteStartObject(parent);
                    open = parent;
                }
                json.WriteStartObject(dot < 0 ? name : name[(dot + 1)..]);
                foreach (var (key, value) in entries)
                    WriteValue(json, name, key, value);
                // A section whose subsections follow ("Config", then "Config.factory") stays open for them.
                if (parent is null && i + 1 < _sections.Count && _sections[i + 1].Name.StartsWith(name + ".", StringComparison.Ordinal))
                    open = name;
                else
                    json.WriteEndObject();
            }
            if (open is not null)
                json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteValue(Utf8JsonWriter json, string section, string key, object? value)
    {
        switch (value)
        {
            case null: json.WriteNull(key); break;
            case string s: json.WriteString(key, s); break;
            case bool b: json.WriteBoolean(key, b); break;
            case long n: json.WriteNumber(key, n); break;
            case double d: json.WriteNumber(key, d); break;
            default: throw new ArgumentException($"{section}.{key}: a {value.GetType().Name} is not a value env prints");
        }
    }

    private static string TomlKey(string key) =>
        key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? key : TomlString(key);

    private static string TomlValue(object value) => value switch
    {
        string s => TomlString(s),
        bool b => b ? "true" : "false",
        long n => n.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("0.0##", CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"a {value.GetType().Name} is not a value env prints"),
    };

    /// <summary>A TOML basic string: quotes, backslashes and control characters escaped.</summary>
    internal static string TomlString(string s)
    {
        var text = new StringBuilder("\"");
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\t': text.Append("\\t"); break;
                case '\r': text.Append("\\r"); break;
                default:
                    if (char.IsControl(c))
                        text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
                    else
                        text.Append(c);
                    break;
            }
        }
        return text.Append('"').ToString();
    }
}
