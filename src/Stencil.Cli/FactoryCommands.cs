using Stencil.Factory;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Vm;

namespace Stencil.Cli;

/// <summary>`stencil factory init|status|destroy`.</summary>
internal static class FactoryCommands
{
    public static async Task<int> InitAsync(LoadedConfig config, bool rebuild, TextWriter stdout, ILog log, CancellationToken cancellationToken)
    {
        if (!config.Config.Factory.EnableTemplate)
            throw StencilException.FailedPrecondition($"templates are off ([factory] enable_template = false in {Cli.Source(config)}): nothing to build");
        await using var factory = new VmFactory(FactoryOptionsFromConfig.Create(config.Config), log);
        var result = await factory.EnsureTemplateAsync(rebuild, cancellationToken).ConfigureAwait(false);
        var t = result.Template;
        await stdout.WriteLineAsync(result.Built
            ? $"template {t.Fingerprint} built in {Format.Seconds(result.Elapsed)}"
            : $"template {t.Fingerprint} is already built ({Format.Age(t.Age)} old)").ConfigureAwait(false);
        foreach (var removed in result.Removed)
            await stdout.WriteLineAsync($"removed stale template {removed}").ConfigureAwait(false);
        await WriteTemplateAsync(stdout, t).ConfigureAwait(false);
        return 0;
    }

    public static async Task<int> StatusAsync(LoadedConfig config, TextWriter stdout, ILog log, CancellationToken cancellationToken)
    {
        await using var factory = new VmFactory(FactoryOptionsFromConfig.Create(config.Config), log);
        var status = await factory.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        await stdout.WriteLineAsync($"configuration   {Cli.Source(config)}{(config.Config.Factory.EnableTemplate ? "" : " (templates off: enable_template = false)")}")
            .ConfigureAwait(false);
        var mount = status.TmpfsMounted
            ? status.MountedByStencil ? "tmpfs mounted by stencil" : "tmpfs (mounted by someone else)"
            : "no tmpfs mounted yet (mounted when the first template is built)";
        await stdout.WriteLineAsync($"template path   {status.TemplatePath}: {mount}").ConfigureAwait(false);
        await stdout.WriteLineAsync(status.CurrentFingerprint is { } fp
            ? $"current         {fp}{(status.Templates.Any(t => t.IsCurrent) ? "" : " (not built yet: `stencil factory init` builds it)")}"
            : $"current         unknown: {status.FingerprintProblem}").ConfigureAwait(false);
        if (status.Templates.Count == 0)
            await stdout.WriteLineAsync("templates       none").ConfigureAwait(false);
        foreach (var t in status.Templates)
        {
            await stdout.WriteLineAsync().ConfigureAwait(false);
            await stdout.WriteLineAsync($"template {t.Fingerprint}{(t.IsCurrent ? " (current)" : " (stale: the configuration or guest image changed)")}").ConfigureAwait(false);
            await WriteTemplateAsync(stdout, t).ConfigureAwait(false);
        }
        foreach (var s in status.SetAside)
        {
            await stdout.WriteLineAsync().ConfigureAwait(false);
            await stdout.WriteLineAsync($"set aside {s.Fingerprint} at {Format.Time(s.When)} ({Format.Age(DateTimeOffset.UtcNow - s.When)} ago), in {s.Directory}").ConfigureAwait(false);
            await stdout.WriteLineAsync($"  reason        {s.Reason.ReplaceLineEndings(" | ")}").ConfigureAwait(false);
        }
        return 0;
    }

    public static async Task<int> DestroyAsync(LoadedConfig config, TextWriter stdout, ILog log, CancellationToken cancellationToken)
    {
        await using var factory = new VmFactory(FactoryOptionsFromConfig.Create(config.Config), log);
        var result = await factory.DestroyAsync(cancellationToken).ConfigureAwait(false);
        await stdout.WriteLineAsync($"removed {result.TemplatesRemoved} template(s) and {result.SetAsideRemoved} set-aside template(s) from {factory.Options.TemplatePath}")
            .ConfigureAwait(false);
        await stdout.WriteLineAsync(result.Unmounted
            ? $"unmounted the template tmpfs at {factory.Options.TemplatePath}; VMs cloned from it keep running"
            : "no tmpfs of stencil's was mounted there").ConfigureAwait(false);
        return 0;
    }

    private static async Task WriteTemplateAsync(TextWriter stdout, TemplateStatus t)
    {
        await stdout.WriteLineAsync($"  folder        {t.Directory}").ConfigureAwait(false);
        await stdout.WriteLineAsync($"  created       {Format.Time(t.Created)} ({Format.Age(t.Age)} ago), built in {Format.Seconds(t.BuildTime)}").ConfigureAwait(false);
        await stdout.WriteLineAsync($"  memory file   {Format.Bytes(t.MemoryFileBytes)} apparent, {Format.Bytes(t.MemoryFileAllocatedBytes)} allocated").ConfigureAwait(false);
        await stdout.WriteLineAsync($"  state file    {Format.Bytes(t.StateFileBytes)}").ConfigureAwait(false);
        await stdout.WriteLineAsync($"  clones served {t.ClonesServed}").ConfigureAwait(false);
        await stdout.WriteLineAsync($"  vm            {t.Machine}, {t.Accelerator}, {t.Vcpus} vCPU, {t.MemoryMiB} MiB; QEMU {t.QemuVersion}").ConfigureAwait(false);
        await stdout.WriteLineAsync($"  guest image   {t.Kernel}, {t.Initrd ?? "(no initrd)"}").ConfigureAwait(false);
    }
}
