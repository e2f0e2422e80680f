using Stencil.TestSupport;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// One private containerd for the whole assembly, with the published shim on its PATH and a Stencil
/// configuration (guest image from build/guest, private state, socket and template folders) given to
/// the shim through STENCIL_CONFIG. The busybox image is imported once. On dispose it checks that no
/// QEMU process, shim daemon, mount or state folder of this run is left, and fails the run if one is.
/// </summary>
public sealed class StencilContainerd : IAsyncLifetime
{
    public const string Image = BusyboxImage.Reference;
    public const string Runtime = "io.containerd.stencil.v2";
    public static readonly TimeSpan CtrTimeout = TimeSpan.FromSeconds(120);

    private PrivateContainerd? _containerd;

    public string Dir { get; } = Directory.CreateTempSubdirectory("stencil-e2e-").FullName;

    public string StateDir => Path.Combine(Dir, "state");

    public string SocketDir => Path.Combine(Dir, "s");

    public string TemplateDir => Path.Combine(Dir, "tpl");

    public string ConfigPath => Path.Combine(Dir, "stencil.toml");

    public PrivateContainerd Containerd => _containerd ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        var shim = ShimBinaries.RequireShim();
        GuestImage.Require();
        Prerequisite.Executable("script", "apt-get install bsdutils");
        new StencilConfigFile { UseGuestImage = true, TemplatePath = TemplateDir, StateDir = StateDir, ShimSocketDir = SocketDir }.WriteTo(ConfigPath);
        _containerd = await PrivateContainerd.StartAsync(new PrivateContainerdOptions
        {
            Environment = new Dictionary<string, string>
            {
                ["PATH"] = ShimBinaries.PathWithFolderOf(shim),
                ["STENCIL_CONFIG"] = ConfigPath,
            },
        });
        await BusyboxImage.BuildAndImportAsync(_containerd, "default", Dir, CtrTimeout);
    }

    public Task<CommandResult> Ctr(params string[] args) => Containerd.CtrAsync("default", args, CtrTimeout);

    /// <summary>Runs a shell command line with ctr's address filled in (for pipes and `script` for a tty).</summary>
    public Task<CommandResult> Shell(string commandLine) =>
        ChildProcess.RunAsync("/bin/sh", ["-c", commandLine.Replace("CTR", $"ctr --address {Containerd.Address}")], CtrTimeout);

    /// <summary>Processes whose command line mentions this run's folder (QEMU, shim daemons).</summary>
    public IReadOnlyList<string> LeftoverProcesses() =>
        Leftovers.ProcessesMentioning(StateDir, SocketDir + "/").Select(p => p.ToString()).ToList();

    public IReadOnlyList<string> LeftoverMounts() => Leftovers.MountLinesMentioning(StateDir);

    /// <summary>Pod folders left under the state dir (the template folder is kept between pods on purpose).</summary>
    public IReadOnlyList<string> LeftoverPodState() => Leftovers.PodStateUnder(StateDir);

    public async Task DisposeAsync()
    {
        if (_containerd is not null)
            await _containerd.DisposeAsync();
        // Template (tmpfs) last: `stencil factory destroy` semantics are the factory's tests'; here just unmount.
        await Leftovers.UnmountAllUnderAsync(Dir);
        Directory.Delete(Dir, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class StencilCollection : ICollectionFixture<StencilContainerd>
{
    public const string Name = "stencil containerd";
}
