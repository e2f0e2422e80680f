namespace Stencil.Cli;

/// <summary>The command line itself is wrong: printed with the usage, exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
