namespace Stencil.Shim.Logging;

/// <summary>logrus' levels, by the names it prints.</summary>
public enum ShimLogLevel
{
    Debug,
    Info,
    Warning,
    Error,
}
