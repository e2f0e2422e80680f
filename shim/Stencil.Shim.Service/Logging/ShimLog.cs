namespace Stencil.Shim.Logging;

/// <summary>
/// The shim's ILog: logrus text lines, each carrying the fields every line of this shim shares
/// (id, namespace). The daemon writes into the bundle's `log` FIFO, which containerd reads and copies
/// into its own log. Writing never blocks and never throws: a full or closed FIFO drops the line,
/// because a log must not stall the Task service.
/// </summary>
public sealed class ShimLog : ILog
{
    private readonly Action<string> _write;
    private readonly KeyValuePair<string, string>[] _fields;
    private readonly TimeProvider _time;

    internal ShimLog(Action<string> write, LogLevel minimum, IEnumerable<KeyValuePair<string, string>> fields, TimeProvider? time = null)
    {
        _write = write;
        Minimum = minimum;
        _fields = fields.ToArray();
        _time = time ?? TimeProvider.System;
    }

    /// <summary>A log that writes nothing.</summary>
    public static ShimLog Null { get; } = new(_ => { }, LogLevel.Error, []);

    public LogLevel Minimum { get; }

    public bool IsEnabled(LogLevel level) => level >= Minimum;

    public void Debug(string message, params KeyValuePair<string, string>[] fields) => Write(LogLevel.Debug, message, fields);

    public void Info(string message, params KeyValuePair<string, string>[] fields) => Write(LogLevel.Info, message, fields);

    public void Warning(string message, params KeyValuePair<string, string>[] fields) => Write(LogLevel.Warning, message, fields);

    public void Error(string message, params KeyValuePair<string, string>[] fields) => Write(LogLevel.Error, message, fields);

    public void Write(LogLevel level, string message, IReadOnlyList<KeyValuePair<string, string>>? fields = null)
    {
        if (!IsEnabled(level))
            return;
        var line = LogrusFormat.Line(_time.GetUtcNow(), level, message, fields is null || fields.Count == 0 ? _fields : _fields.Concat(fields));
        try
        {
            _write(line);
        }
        catch (Exception)
        {
            // Nowhere left to report a failing log; dropping the line is the only option.
        }
    }

    /// <summary>A field for <see cref="Write"/>: <c>log.Info("...", ShimLog.Field("error", ex.Message))</c>.</summary>
    public static KeyValuePair<string, string> Field(string key, string value) => new(key, value);
}
