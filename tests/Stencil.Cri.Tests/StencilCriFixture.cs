using Stencil.TestSupport;

namespace Stencil.Cri.Tests;

/// <summary>
/// The CRI fixture with a second runtime handler, "stencil" (runtime_type io.containerd.stencil.v2, the
/// published shim from build/bin first on containerd's PATH, a private Stencil config through
/// STENCIL_CONFIG: guest from build/guest, state, shim sockets and template under the fixture's folder).
/// Its pods get 10.88.232.0/24 on a bridge that has 10.88.232.1, so a test can reach a pod's port from
/// the host. Disposing checks nothing itself (tests assert leftovers after each pod) but unmounts what
/// the factory left under the folder (the template's tmpfs) before the folder is deleted.
/// </summary>
public sealed class StencilCriFixture : CriContainerdFixture
{
    public const string Handler = "stencil";
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

    public static string Shim => Path.Combine(RepoPaths.Build, "bin", "containerd-shim-stencil-v2");

    private static CriFixtureOptions Options(string dir) => new()
    {
        Subnet = StencilSubnet,
        HostAddress = HostAddress + "/24",
        ExtraToml = """
            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.stencil]
              runtime_type = "io.containerd.stencil.v2"
              pod_annotations = ["io.stencil.*"]
              privileged_without_host_devices = true
            """,
        Environment = new Dictionary<string, string>
        {
            ["PATH"] = $"{Path.GetDirectoryName(Shim)}:{Environment.GetEnvironmentVariable("PATH")}",
            ["STENCIL_CONFIG"] = Path.Combine(dir, "stencil.toml"),
        },
    };

    protected override async Task PrepareAsync()
    {
        Prerequisite.File(Shim, "make publish");
        Prerequisite.File(Path.Combine(RepoPaths.GuestDir, "vmlinux"), "make guest");
        Prerequisite.File(Path.Combine(RepoPaths.GuestDir, "initrd"), "make guest");
        await File.WriteAllTextAsync(ConfigPath, $"""
            [hypervisor]
            kernel = "{RepoPaths.GuestDir}/vmlinux"
            initrd = "{RepoPaths.GuestDir}/initrd"
            [factory]
            template_path = "{TemplateDir}"
            [runtime]
            state_dir = "{StateDir}"
            shim_socket_dir = "{SocketDir}"
            """);
    }

    protected override async Task AfterContainerdStoppedAsync()
    {
        foreach (var m in File.ReadAllLines("/proc/self/mounts").Select(l => l.Split(' ')[1])
                     .Where(m => m.StartsWith(Dir, StringComparison.Ordinal)).OrderByDescending(m => m.Length))
            await ChildProcess.RunAsync("umount", ["-l", m], TimeSpan.FromSeconds(10));
        if (System.IO.Directory.Exists(Dir))
            System.IO.Directory.Delete(Dir, recursive: true);
    }

    /// <summary>QEMU processes (and shim daemons) whose command line names this fixture's state or socket folder.</summary>
    public IReadOnlyList<string> StencilProcesses(string? mustContain = null)
    {
        var found = new List<string>();
        foreach (var proc in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out _))
                continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                if ((cmdline.Contains(StateDir, StringComparison.Ordinal) || cmdline.Contains(SocketDir + "/", StringComparison.Ordinal))
                    && (mustContain is null || cmdline.Contains(mustContain, StringComparison.Ordinal)))
                    found.Add($"{Path.GetFileName(proc)}: {cmdline}");
            }
            catch (IOException)
            {
            }
        }
        return found;
    }

    /// <summary>QEMU processes of this fixture.</summary>
    public IReadOnlyList<string> QemuProcesses() =>
        StencilProcesses().Where(p => p.Split(' ', 3)[1].Contains("qemu", StringComparison.Ordinal)).ToList();

    public IReadOnlyList<string> LeftoverMounts() =>
        File.ReadAllLines("/proc/self/mounts").Where(l => l.Contains(StateDir, StringComparison.Ordinal)).ToList();

    /// <summary>Pod and VM folders left under the state dir (the template is kept between pods on purpose).</summary>
    public IReadOnlyList<string> LeftoverPodState()
    {
        var found = new List<string>();
        foreach (var sub in new[] { "pods", "vm" })
        {
            var dir = Path.Combine(StateDir, sub);
            if (System.IO.Directory.Exists(dir))
                found.AddRange(System.IO.Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories));
        }
        return found;
    }
}

[CollectionDefinition(Name)]
public sealed class StencilCriCollection : ICollectionFixture<StencilCriFixture>
{
    public const string Name = "private containerd with CRI and the stencil runtime";
}
