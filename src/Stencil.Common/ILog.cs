namespace Stencil;

/// <summary>
/// Where every layer writes its log lines. The shim's implementation writes logrus-style lines to
/// containerd's log FIFO; the libraries below only see this interface.
/// </summary>
public interface ILog
{
    bool IsEnabled(LogLevel level);

    /// <param name="fields">Extra key=value pairs ("id", "vm"), written after the message.</param>
    void Write(LogLevel level, string message, IReadOnlyList<KeyValuePair<string, string>>? fields = null);
}
