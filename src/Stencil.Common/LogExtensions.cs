namespace Stencil;

public static class LogExtensions
{
    public static void Debug(this ILog log, string message) => Write(log, LogLevel.Debug, message);
    public static void Info(this ILog log, string message) => Write(log, LogLevel.Info, message);
    public static void Warning(this ILog log, string message) => Write(log, LogLevel.Warning, message);
    public static void Error(this ILog log, string message) => Write(log, LogLevel.Error, message);

    private static void Write(ILog log, LogLevel level, string message)
    {
        if (log.IsEnabled(level))
            log.Write(level, message);
    }
}
