using Stencil.TestSupport;

namespace Stencil.Reliability.Load;

/// <summary>
/// What `load` runs in on its own (the end-to-end test brings its containerd): one folder
/// /tmp/stencil-rel-XXXX with the Stencil configuration (state, sockets, template inside it), a
/// private containerd whose PATH starts with build/bin, and the busybox image imported. Disposing
/// stops containerd, unmounts what is left under the folder (the template tmpfs) and removes it.
/// </summary>
public sealed class LoadEnvironment : IAsyncDisposable
{
    public const string Namespace = "default";
    private static readonly TimeSpan s_ctrTimeout = TimeSpan.FromSeconds(180);

    private PrivateContainerd? _containerd;

    private LoadEnvironment(string dir) => Dir = dir;

    public string Dir { get; }

    public LoadHost Host => new(args => Containerd.CtrAsync(Namespace, args, s_ctrTimeout), Dir, Containerd.Directory);

    public PrivateContainerd Containerd => _containerd ?? throw new InvalidOperationException("containerd is not started");

    public static async Task<LoadEnvironment> StartAsync(CancellationToken cancellationToken)
    {
        var shim = ShimBinaries.RequireShim();
        GuestImage.Require();
        var environment = new LoadEnvironment(Directory.CreateTempSubdirectory("stencil-rel-").FullName);
        try
        {
            var config = new StencilConfigFile
            {
                UseGuestImage = true,
                TemplatePath = Path.Combine(environment.Dir, "tpl"),
                StateDir = Path.Combine(environment.Dir, "state"),
                ShimSocketDir = Path.Combine(environment.Dir, "s"),
            }.WriteTo(Path.Combine(environment.Dir, "stencil.toml"));
            environment._containerd = await PrivateContainerd.StartAsync(new PrivateContainerdOptions
            {
                Environment = new Dictionary<string, string>
                {
                    ["PATH"] = ShimBinaries.PathWithFolderOf(shim),
                    ["STENCIL_CONFIG"] = config,
                },
            }, cancellationToken).ConfigureAwait(false);
            await BusyboxImage.BuildAndImportAsync(environment._containerd, Namespace, environment.Dir, s_ctrTimeout).ConfigureAwait(false);
            return environment;
        }
        catch
        {
            await environment.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_containerd is not null)
            await _containerd.DisposeAsync().ConfigureAwait(false);
        await Leftovers.UnmountAllUnderAsync(Dir).ConfigureAwait(false);
        Directory.Delete(Dir, recursive: true);
    }
}
