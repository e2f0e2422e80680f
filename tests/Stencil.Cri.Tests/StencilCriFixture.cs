using Stencil.TestSupport;

namespace Stencil.Cri.Tests;

/// <summary>
/// The CRI fixture with a second runtime handler, "stencil" (and the same shim as "stencil-sandbox", through
/// containerd 2.x's sandbox API; "stencil-pause", the pause image run by crun; "stencil-dense", the dense
/// preset) (runtime_type io.containerd.stencil.v2, the
/// published shim from build/bin first on containerd's PATH, a private Stencil config through
/// STENCIL_CONFIG: guest from build/guest, state, shim sockets and template under the fixture's folder).
/// Its pods get 10.88.232.0/24 on a bridge that has 10.88.232.1, so a test can reach a pod's port from
/// the host. Disposing checks nothing itself (tests assert leftovers after each pod) but unmounts what
/// the factory left under the folder (the template's tmpfs) before the folder is deleted.
/// </summary>
public sealed class StencilCriFixture : CriContainerdFixture
{
    public const string Handler = "stencil";

    /// <summary>The same shim as the pod's sandbox through containerd 2.x's sandbox API (`sandboxer = "shim"`):
    /// no pause container. containerd 1.x does not know the key and runs it as <see cref="Handler"/>.</summary>
    public const string SandboxHandler = "stencil-sandbox";

    /// <summary>The pause-container mode with the pause image run by crun in the guest ([runtime] sandbox_container =
    /// "runtime"; the default serves it with the agent's namespace holder). Its config comes through the
    /// runtime options' ConfigPath, as Kata's does.</summary>
    public const string PauseRuntimeHandler = "stencil-pause";

    /// <summary>The dense preset: config/configuration-dense.toml (its base pointed at <see cref="ConfigPath"/>) through
    /// the runtime options' ConfigPath, as config/containerd's snippets install it.</summary>
    public const string DenseHandler = "stencil-dense";

    public const string StencilSubnet = "10.88.232.0/24";
    public const string HostAddress = "10.88.232.1";

    public StencilCriFixture()
        : this(System.IO.Directory.CreateTempSubdirectory("stencil-test-cri-vm-").FullName)
    {
    }

    private StencilCriFixture(string dir)
        : base(Options(dir))
    {
        Dir = dir;
    }

    /// <summary>Stencil's own folder (config, state, sockets, template), outside containerd's.</summary>
    public string Dir { get; }

    public string StateDir => Path.Combine(Dir, "state");

    public string SocketDir => Path.Combine(Dir, "s");

    public string TemplateDir => Path.Combine(Dir, "tpl");

    public string ConfigPath => Path.Combine(Dir, "stencil.toml");

    /// <summary>The configuration of <see cref="PauseRuntimeHandler"/>, in the fixture's folder.</summary>
    private static string PauseConfigPath(string dir) => Path.Combine(dir, "stencil-pause.toml");

    /// <summary>The configuration of <see cref="DenseHandler"/>, in the fixture's folder.</summary>
    private static string DenseConfigPath(string dir) => Path.Combine(dir, "stencil-dense.toml");

    public static string Shim => ShimBinaries.Shim;

    private static CriFixtureOptions Options(string dir) => new()
    {
        Subnet = StencilSubnet,
        HostAddress = HostAddress + "/24",
        ExtraToml = """
            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.stencil]
              runtime_type = "io.containerd.stencil.v2"
              pod_annotations = ["io.stencil.*"]
              privileged_without_host_devices = true
            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.stencil-sandbox]
              runtime_type = "io.containerd.stencil.v2"
              sandboxer = "shim"
              pod_annotations = ["io.stencil.*"]
              privileged_without_host_devices = true
            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.stencil-pause]
              runtime_type = "io.containerd.stencil.v2"
              pod_annotations = ["io.stencil.*"]
              privileged_without_host_devices = true
              [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.stencil-pause.options]
                ConfigPath = "
            """ + PauseConfigPath(dir) + "\"\n" + """
            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.stencil-dense]
              runtime_type = "io.containerd.stencil.v2"
              pod_annotations = ["io.stencil.*"]
              privileged_without_host_devices = true
              [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.stencil-dense.options]
                ConfigPath = "
            """ + DenseConfigPath(dir) + "\"\n",
        Environment = new Dictionary<string, string>
        {
            ["PATH"] = ShimBinaries.PathWithFolderOf(Shim),
            ["STENCIL_CONFIG"] = Path.Combine(dir, "stencil.toml"),
        },
    };

    protected override Task PrepareAsync()
    {
        ShimBinaries.RequireShim();
        GuestImage.Require();
        // The same folders (so the same template) for both; only the sandbox container's server differs.
        StencilConfigFile Config(string? runtimeKeys) =>
            new() { UseGuestImage = true, TemplatePath = TemplateDir, StateDir = StateDir, ShimSocketDir = SocketDir, RuntimeKeys = runtimeKeys };
        Config(null).WriteTo(ConfigPath);
        Config("sandbox_container = \"runtime\"").WriteTo(PauseConfigPath(Dir));
        // The shipped preset itself, based on this fixture's file instead of /etc/stencil's.
        StencilConfigFile.WriteDensePreset(ConfigPath, DenseConfigPath(Dir));
        return Task.CompletedTask;
    }

    protected override async Task AfterContainerdStoppedAsync()
    {
        await Leftovers.UnmountAllUnderAsync(Dir);
        if (System.IO.Directory.Exists(Dir))
            System.IO.Directory.Delete(Dir, recursive: true);
    }

    /// <summary>QEMU processes (and shim daemons) whose command line names this fixture's state or socket folder.</summary>
    public IReadOnlyList<string> StencilProcesses(string? mustContain = null) =>
        Leftovers.ProcessesMentioning(StateDir, SocketDir + "/")
            .Where(p => mustContain is null || p.CommandLine.Contains(mustContain, StringComparison.Ordinal))
            .Select(p => p.ToString()).ToList();

    /// <summary>QEMU processes of this fixture.</summary>
    public IReadOnlyList<string> QemuProcesses() =>
        StencilProcesses().Where(p => p.Split(' ', 3)[1].Contains("qemu", StringComparison.Ordinal)).ToList();

    public IReadOnlyList<string> LeftoverMounts() => Leftovers.MountLinesMentioning(StateDir);

    /// <summary>Pod and VM folders left under the state dir (the template is kept between pods on purpose).</summary>
    public IReadOnlyList<string> LeftoverPodState() => Leftovers.PodStateUnder(StateDir);
}

[CollectionDefinition(Name)]
public sealed class StencilCriCollection : ICollectionFixture<StencilCriFixture>
{
    public const string Name = "private containerd with CRI and the stencil runtime";
}
