using System.Diagnostics;
using Stencil.Factory.Tests.Support;
using Stencil.TestSupport;

namespace Stencil.Factory.Tests.Vm;

/// <summary>
/// The one template of a test run, in a private template path under /tmp (never /run/stencil): built
/// by three factories started at once on the empty folder, as three shims would, which must build it
/// exactly once. Disposing destroys it (removing the templates and unmounting the tmpfs) and fails if
/// a QEMU process, a socket or a mount is left.
/// </summary>
public sealed class TemplateFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("stencil-test-factory-").FullName;

    public string TemplatePath => Path.Combine(Root, "template");

    public TestLog Log { get; } = new();

    public VmFactoryOptions Options { get; private set; } = null!;

    /// <summary>The factory the tests use (one of the three that raced).</summary>
    public VmFactory Factory { get; private set; } = null!;

    public IReadOnlyList<TemplateBuildResult> FirstUse { get; private set; } = [];

    /// <summary>Templates built by the three racing factories together.</summary>
    public int BuildsOnFirstUse { get; private set; }

    public TimeSpan FirstUseTime { get; private set; }

    public TemplateStatus Template => FirstUse[0].Template;

    public async Task InitializeAsync()
    {
        GuestImage.RequireBootable();
        Options = new VmFactoryOptions
        {
            Description = FactoryTestVm.Description(),
            TemplatePath = TemplatePath,
            PoolDirectory = Path.Combine(Root, "pool"),
            TemplateBuildTimeout = TimeSpan.FromSeconds(180),
            AgentTimeout = TimeSpan.FromSeconds(90),
        };
        var factories = Enumerable.Range(0, 3).Select(_ => new VmFactory(Options, Log)).ToArray();
        var clock = Stopwatch.StartNew();
        try
        {
            FirstUse = await Task.WhenAll(factories.Select(f => Task.Run(() => f.EnsureTemplateAsync())));
            FirstUseTime = clock.Elapsed;
            BuildsOnFirstUse = factories.Sum(f => f.TemplatesBuilt);
        }
        finally
        {
            foreach (var f in factories.Skip(1))
                await f.DisposeAsync();
        }
        Factory = factories[0];
    }

    public VmRequest Request(string name) => Scratch.Request(Root, name);

    public async Task DisposeAsync()
    {
        if (Factory is not null)
        {
            await Factory.DestroyAsync();
            await Factory.DisposeAsync();
        }
        await LeakCheck.AssertCleanAsync(Root);
        Directory.Delete(Root, recursive: true);
    }
}
