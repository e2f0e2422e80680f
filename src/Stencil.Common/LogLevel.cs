namespace Stencil;

/// <summary>Levels as containerd's logs name them (logrus): debug, info, warning, error.</summary>
public enum LogLevel
{
    Debug = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
}
