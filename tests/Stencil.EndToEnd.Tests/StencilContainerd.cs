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
    public const string Image = "docker.io/library/busybox:latest";
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
        var shim = Path.Combine(RepoPaths.Build, "bin", "containerd-shim-stencil-v2");
        Prerequisite.File(shim, "make publish");
        Prerequisite.File(Path.Combine(RepoPaths.GuestDir, "vmlinux"), "make guest");
        Prerequisite.File(Path.Combine(RepoPaths.GuestDir, "initrd"), "make guest");
        Prerequisite.Executable("script", "apt-get install bsdutils");
        File.WriteAllText(ConfigPath, $"""
            [hypervisor]
            kernel = "{RepoPaths.GuestDir}/vmlinux"
            initrd = "{RepoPaths.GuestDir}/initrd"
            [factory]
            template_path = "{TemplateDir}"
            [runtime]
            state_dir = "{StateDir}"
            shim_socket_dir = "{SocketDir}"
            """);
        _containerd = await PrivateContainerd.StartAsync(new PrivateContainerdOptions
        {
            Environment = new Dictionary<string, string>
            {
                ["PATH"] = $"{Path.GetDirectoryName(shim)}:{Environment.GetEnvironmentVariable("PATH")}",
                ["STENCIL_CONFIG"] = ConfigPath,
            },
        });
        var imageTar = Path.Combine(Dir, "busybox.tar");
        (await ChildProcess.RunAsync(Path.Combine(RepoPaths.Root, "scripts", "busybox-image.sh"), [imageTar, Image], CtrTimeout))
            .EnsureSuccess("scripts/busybox-image.sh");
        (await Ctr("images", "import", imageTar)).EnsureSuccess("ctr images import");
    }

    public Task<CommandResult> Ctr(params string[] args) => Containerd.CtrAsync("default", args, CtrTimeout);

    /// <summary>Runs a shell command line with ctr's address filled in (for pipes and `script` for a tty).</summary>
    public Task<CommandResult> Shell(string commandLine) =>
        ChildProcess.RunAsync("/bin/sh", ["-c", commandLine.Replace("CTR", $"ctr --address {Containerd.Address}")], CtrTimeout);

    /// <summary>Processes whose command line mentions this run's folder (QEMU, shim daemons).</summary>
    public IReadOnlyList<string> LeftoverProcesses()
    {
        var found = new List<string>();
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out _))
                continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(StateDir, StringComparison.Ordinal) || cmdline.Contains(SocketDir + "/", StringComparison.Ordinal))
                    found.Add($"{Path.GetFileName(proc)}: {cmdline}");
            }
            catch (IOException)
            {
            }
        }
        return found;
    }

    public IReadOnlyList<string> LeftoverMounts() =>
        File.ReadAllLines("/proc/self/mounts").Where(l => l.Contains(StateDir, StringComparison.Ordinal)).ToList();

    /// <summary>Pod folders left under the state dir (the template folder is kept between pods on purpose).</summary>
    public IReadOnlyList<string> LeftoverPodState()
    {
        var found = new List<string>();
        foreach (var sub in new[] { "pods", "vm" })
        {
            var dir = Path.Combine(StateDir, sub);
            if (Directory.Exists(dir))
                found.AddRange(Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories));
        }
        return found;
    }

    public async Task DisposeAsync()
    {
        if (_containerd is not null)
            await _containerd.DisposeAsync();
        // Template (tmpfs) last: `stencil factory destroy` semantics are the factory's tests'; here just unmount.
        foreach (var m in File.ReadAllLines("/proc/self/mounts").Select(l => l.Split(' ')[1]).Where(m => m.StartsWith(Dir, StringComparison.Ordinal)).OrderByDescending(m => m.Length))
            await ChildProcess.RunAsync("umount", ["-l", m], TimeSpan.FromSeconds(10));
        Directory.Delete(Dir, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class StencilCollection : ICollectionFixture<StencilContainerd>
{
    public const string Name = "stencil containerd";
}
