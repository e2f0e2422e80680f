using System.Globalization;
using System.Text;

namespace Stencil.Shim.Logging;

/// <summary>
/// One log line in logrus' text format (what containerd's Go shims write and containerd copies to
/// its own log): time, level, msg, then the other fields sorted by key; a value is quoted Go-style
/// when it holds anything but letters, digits and - . _ / @ ^ +.
/// <c>time="2026-11-25T20:30:00.123456789Z" level=info msg="shim started" id=abc namespace=default</c>
/// </summary>
internal static class LogrusFormat
{
    public static string Line(DateTimeOffset time, LogLevel level, string message, IEnumerable<KeyValuePair<string, string>> fields)
    {
        var sb = new StringBuilder(128);
        Append(sb, "time", Timestamp(time), first: true);
        Append(sb, "level", LevelName(level));
        if (message.Length > 0)
            Append(sb, "msg", message);
        foreach (var (key, value) in fields.OrderBy(f => f.Key, StringComparer.Ordinal))
            Append(sb, key, value);
        sb.Append('\n');
        return sb.ToString();
    }

    public static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Debug => "debug",
        LogLevel.Info => "info",
        LogLevel.Warning => "warning",
        _ => "error",
    };

    /// <summary>containerd's RFC3339NanoFixed: always nine fraction digits, in UTC here.</summary>
    public static string Timestamp(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var nanos = utc.Ticks % TimeSpan.TicksPerSecond * 100;
        return utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "." + nanos.ToString("D9", CultureInfo.InvariantCulture) + "Z";
    }

    private static void Append(StringBuilder sb, string key, string value, bool first = false)
    {
        if (!first)
            sb.Append(' ');
        sb.Append(key).Append('=');
        if (NeedsQuoting(value))
            AppendQuoted(sb, value);
        else
            sb.Append(value);
    }

    private static bool NeedsQuoting(string value)
    {
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '/' or '@' or '^' or '+'))
                return true;
        }
        return false;
    }

    /// <summary>Go's %q: backslash escapes for quotes, backslashes and control characters.</summary>
    private static void AppendQuoted(StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x7f)
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
