using System.Diagnostics;
using System.Text;
using Stencil.Agent.Client;
using Stencil.TestSupport;

namespace Stencil.Agent.Tests.Vm;

/// <summary>
/// One guest VM for every test of the "guest vm" collection: boots the image once, connects, and
/// creates the sandbox with a 9p share that holds a busybox root file system under "rootfs".
/// </summary>
public class GuestVmFixture : IAsyncLifetime
{
    private readonly bool _hotplug;

    public GuestVmFixture()
        : this(hotplug: false)
    {
    }

    protected GuestVmFixture(bool hotplug) => _hotplug = hotplug;

    private TestVm? _vm;
    private AgentClient? _agent;

    public TestVm Vm => _vm ?? throw new InvalidOperationException("the VM is not running");

    public AgentClient Agent => _agent ?? throw new InvalidOperationException("not connected to the agent");

    /// <summary>The host folder the guest sees at /run/stencil/shared.</summary>
    public string ShareDir { get; private set; } = "";

    public TimeSpan BootTime { get; private set; }

    public static TimeSpan Timeout => TimeSpan.FromSeconds(120);

    public async Task InitializeAsync()
    {
        ShareDir = Directory.CreateTempSubdirectory("stencil-test-agent-share-").FullName;
        BusyboxRootfs.Create(Path.Combine(ShareDir, "rootfs"));
        var clock = Stopwatch.StartNew();
        _vm = await TestVm.StartAsync(new TestVmOptions(SharedDir: ShareDir, Hotplug: _hotplug));
        _agent = await _vm.ConnectAsync(Timeout);
        BootTime = clock.Elapsed;
        await _agent.CreateSandboxAsync(new SandboxConfig("sandbox-1", Hostname: "stencil-test", DnsServers: ["10.0.2.3"],
            Shared: new SharedFolderConfig(TestVm.ShareTag)));
    }

    /// <summary>Drops the connection and makes a new one, as a template clone's host does.</summary>
    public async Task ReconnectAsync()
    {
        if (_agent is not null)
            await _agent.DisposeAsync();
        _agent = null;
        _agent = await Vm.ConnectAsync(Timeout);
    }

    public async Task DisconnectAsync()
    {
        if (_agent is not null)
            await _agent.DisposeAsync();
        _agent = null;
    }

    public async Task DisposeAsync()
    {
        if (_agent is not null)
            await _agent.DisposeAsync();
        if (_vm is not null)
            await _vm.DisposeAsync();
        if (ShareDir.Length > 0)
        {
            try
            {
                Directory.Delete(ShareDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Creates (not starts) a container whose rootfs is the shared busybox folder.</summary>
    public Task<int> CreateAsync(string id, byte[] spec, string? runtime = null) =>
        Agent.CreateContainerAsync(new ContainerConfig(id, spec, [StorageMount.Shared("rootfs", "rootfs")], runtime));

    public Task<int> CreateAsync(string id, string[] args, bool terminal = false) => CreateAsync(id, TestSpecs.SpecJson(args, terminal));

    /// <summary>Reads a stream of a process to its end.</summary>
    public async Task<string> ReadAllAsync(string id, string? execId = null, StdioStream stream = StdioStream.Stdout)
    {
        using var buffer = new MemoryStream();
        using var cts = new CancellationTokenSource(Timeout);
        await Agent.CopyOutputAsync(id, execId, stream, buffer, cts.Token);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public async Task<ProcessExit> WaitAsync(string id, string? execId = null)
    {
        using var cts = new CancellationTokenSource(Timeout);
        return await Agent.WaitProcessAsync(id, execId, cts.Token);
    }

    /// <summary>Runs a container to its end: (stdout, stderr, exit code); removes it.</summary>
    public async Task<(string Stdout, string Stderr, int ExitCode)> RunAsync(string id, params string[] args)
    {
        await CreateAsync(id, args);
        try
        {
            await Agent.StartContainerAsync(id);
            var stdout = ReadAllAsync(id);
            var stderr = ReadAllAsync(id, stream: StdioStream.Stderr);
            var exit = await WaitAsync(id);
            return (await stdout, await stderr, exit.ExitCode);
        }
        finally
        {
            await Agent.RemoveContainerAsync(id, force: true);
        }
    }
}
