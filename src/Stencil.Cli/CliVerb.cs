namespace Stencil.Cli;

/// <summary>What the command line asked for.</summary>
internal enum CliVerb
{
    Help,
    Check,
    FactoryInit,
    FactoryStatus,
    FactoryDestroy,
    FactoryServe,
    FactoryMetrics,
    Starts,
    Env,
}
