using Stencil.TestSupport;

namespace Stencil.Cri.Tests;

/// <summary>
/// A private containerd with the CRI plugin wired for pods on this machine: a busybox image and a
/// pause image (the sandbox_image) built locally and imported into namespace k8s.io, and CNI from
/// Debian's containernetworking-plugins with a private conflist: a bridge of its own (no address on
/// the host, no masquerade, no forwarding change) and host-local addresses from 10.88.231.0/24 whose
/// state lives in the fixture's folder. Disposing stops containerd and deletes the bridge and folder.
/// A derived fixture (<see cref="StencilCriFixture"/>) adds a runtime handler and its own subnet
/// through <see cref="CriFixtureOptions"/>.
/// </summary>
public class CriContainerdFixture : IAsyncLifetime
{
    public const string BusyboxImage = "docker.io/library/busybox:stencil-test";
    public const string PauseImage = "registry.k8s.io/pause:stencil-test";
    public const string Subnet = "10.88.231.0/24";
    public const string CniBinDir = "/usr/lib/cni";

    private readonly CriFixtureOptions _options;
    private PrivateContainerd? _containerd;
    private CriClient? _client;

    public CriContainerdFixture()
        : this(new CriFixtureOptions())
    {
    }

    protected CriContainerdFixture(CriFixtureOptions options)
    {
        _options = options;
    }

    /// <summary>The pods' subnet of this fixture's CNI network.</summary>
    public string PodSubnet => _options.Subnet ?? Subnet;

    /// <summary>/tmp/stencil-test-cri-XXXX: images, CNI config, IPAM state, pod logs.</summary>
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("stencil-test-cri-").FullName;

    /// <summary>The CNI bridge's name, unique per fixture (at most 15 characters).</summary>
    public string Bridge { get; } = "stcri" + Guid.NewGuid().ToString("N")[..8];

    public PrivateContainerd Containerd => _containerd ?? throw new InvalidOperationException("fixture not initialized");

    public CriClient Client => _client ?? throw new InvalidOperationException("fixture not initialized");

    public string LogDirectory(string pod)
    {
        var path = Path.Combine(Directory, "logs", pod);
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Runs a test body; when it fails, the tail of containerd's log goes to the test output.</summary>
    public async Task WithLogOnFailureAsync(Xunit.Abstractions.ITestOutputHelper output, Func<Task> body)
    {
        try
        {
            await body();
        }
        catch
        {
            var log = Containerd.ReadLog().Split('\n');
            output.WriteLine("containerd log (last 60 lines):\n" + string.Join('\n', log.TakeLast(60)));
            throw;
        }
    }

    /// <summary>Called before containerd starts: what a derived fixture needs on disk (its runtime's config).</summary>
    protected virtual Task PrepareAsync() => Task.CompletedTask;

    /// <summary>Called after the fixture's own cleanup steps up to containerd's stop, before the folder goes.</summary>
    protected virtual Task AfterContainerdStoppedAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch
        {
            // xunit does not dispose a fixture whose initialization failed.
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        Prerequisite.Executable("runc", "make deps (apt-get install runc)");
        Prerequisite.Executable("ip", "make deps (apt-get install iproute2)");
        foreach (var plugin in new[] { "bridge", "host-local", "loopback" })
            Prerequisite.File(Path.Combine(CniBinDir, plugin), "make deps (apt-get install containernetworking-plugins)");
        Prerequisite.File("/bin/busybox", "make deps (apt-get install busybox-static)");

        var busyboxTar = Path.Combine(Directory, "busybox.tar");
        var pauseTar = Path.Combine(Directory, "pause.tar");
        await TestSupport.BusyboxImage.BuildAsync(busyboxTar, BusyboxImage);
        // The script always sets Cmd ["sh"], which is appended to an entrypoint: "sleep N sh" would fail,
        // so the pause entrypoint is a shell that takes the extra word as its $0.
        await TestSupport.BusyboxImage.BuildAsync(pauseTar, PauseImage, """["sh","-c","exec sleep 2147483647"]""");

        var cniConfDir = Path.Combine(Directory, "cni");
        System.IO.Directory.CreateDirectory(cniConfDir);
        await File.WriteAllTextAsync(Path.Combine(cniConfDir, "10-stencil-test.conflist"), CniConfList(Bridge, PodSubnet, Path.Combine(Directory, "ipam")));
        if (_options.HostAddress is { } hostAddress)
        {
            // The bridge plugin takes a bridge that exists as it is: made here with an address, the host
            // reaches the pods (a route to the subnet via the bridge), still without gateway or NAT.
            await RunAsync("ip", "link", "add", Bridge, "type", "bridge");
            await RunAsync("ip", "addr", "add", hostAddress, "dev", Bridge);
            await RunAsync("ip", "link", "set", Bridge, "up");
        }
        await PrepareAsync();

        _containerd = await PrivateContainerd.StartAsync(new PrivateContainerdOptions
        {
            SandboxImage = PauseImage,
            ExtraToml = $"""
                [plugins."io.containerd.grpc.v1.cri".cni]
                  bin_dir = "{CniBinDir}"
                  conf_dir = "{cniConfDir}"
                  max_conf_num = 1
                """ + (_options.ExtraToml is null ? "" : "\n" + _options.ExtraToml),
            Environment = _options.Environment,
        });
        foreach (var tar in new[] { busyboxTar, pauseTar })
            await TestSupport.BusyboxImage.ImportAsync(_containerd, "k8s.io", tar);
        _client = CriClient.Connect(_containerd.Address, TimeSpan.FromSeconds(60));
    }

    /// <summary>A bridge + host-local conflist: no gateway on the host (so no host address, no route and
    /// no ip_forward change), no masquerade (no iptables rules).</summary>
    public static string CniConfList(string bridge, string subnet, string ipamDataDir) => $$"""
        {
          "cniVersion": "0.4.0",
          "name": "stencil-test",
          "plugins": [
            {
              "type": "bridge",
              "bridge": "{{bridge}}",
              "isGateway": false,
              "ipMasq": false,
              "ipam": {
                "type": "host-local",
                "ranges": [[{ "subnet": "{{subnet}}" }]],
                "dataDir": "{{ipamDataDir}}"
              }
            }
          ]
        }
        """;

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_containerd is not null)
            await _containerd.DisposeAsync();
        await AfterContainerdStoppedAsync();
        // The bridge plugin creates the bridge on first use and never deletes it.
        if (System.IO.Directory.Exists("/sys/class/net/" + Bridge))
            await ChildProcess.RunAsync("ip", ["link", "del", Bridge], TimeSpan.FromSeconds(10));
        if (System.IO.Directory.Exists(Directory))
            System.IO.Directory.Delete(Directory, recursive: true);
    }

    protected static async Task RunAsync(string file, params string[] args)
    {
        var result = await ChildProcess.RunAsync(file, args, TimeSpan.FromSeconds(120));
        Assert.True(result.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {result.ExitCode}: {result.Stderr}");
    }
}
