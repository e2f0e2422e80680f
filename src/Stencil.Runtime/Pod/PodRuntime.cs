using System.Threading.Channels;
using Stencil.Runtime.Network;
using Stencil.Runtime.Storage;
using Stencil.Runtime.Vm;

namespace Stencil.Runtime.Pod;

/// <summary>
/// One pod as containerd's Task API sees it: the registry of its containers and their processes, each
/// call delegated to the piece that owns it. The VM, its network and port forwarding are the
/// <see cref="PodSandbox"/>'s (started with the first container, stopped with the last); host storage
/// is <see cref="HostStorage"/>'s; devices <see cref="PodDevices"/>'; sizing <see cref="PodSizer"/>'s.
/// Everything inside the guest is the agent's. The operations are split by concern:
/// PodRuntime.Create.cs, PodRuntime.Processes.cs, PodRuntime.Delete.cs.
/// </summary>
public sealed partial class PodRuntime : IPodRuntime
{
    private readonly PodRuntimeOptions _options;
    private readonly ILog _log;
    private readonly PodSandbox _sandbox;
    private readonly HostStorage _storage;
    private readonly PodSizer _sizer;
    private readonly object _gate = new();
    private readonly Dictionary<string, PodContainer> _containers = [];
    private readonly HashSet<string> _creating = [];
    private readonly Channel<RuntimeEvent> _events = Channel.CreateUnbounded<RuntimeEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly DateTimeOffset _createdAt = DateTimeOffset.UtcNow;
    private bool _disposed;

    /// <param name="vms">Gives the pod its VM; owned (disposed with the runtime when disposable).</param>
    /// <param name="network">The host side of pod networking; null: tc redirects through iproute2
    /// (<see cref="TcRedirectNetwork"/>), made when a pod first needs it.</param>
    public PodRuntime(PodRuntimeOptions options, IPodVmProvider vms, IMounter mounter, ILog log, IPodNetwork? network = null)
    {
        _options = options;
        _log = log;
        _sandbox = new PodSandbox(options, vms, mounter, log, network);
        _storage = new HostStorage(options, mounter, log);
        _sizer = new PodSizer(options, log, _sandbox.VmMemoryGrowing);
    }

    public int ContainerCount
    {
        get
        {
            lock (_gate)
                return _containers.Count + _creating.Count + (SandboxHolds ? 1 : 0);
        }
    }

    /// <summary>Where the pod's VM is (for diagnostics and tests).</summary>
    public Lifecycle.PodState PodState => _sandbox.Lifecycle.State;

    public IAsyncEnumerable<RuntimeEvent> Events => _events.Reader.ReadAllAsync();

    private PodContainer Get(string id)
    {
        lock (_gate)
        {
            return _containers.TryGetValue(id, out var c)
                ? c
                : throw StencilException.NotFound($"container \"{id}\" not found");
        }
    }

    private (PodContainer Container, PodProcess Process) Find(string id, string? execId)
    {
        lock (_gate)
        {
            var container = Get(id);
            return (container, container.Process(execId));
        }
    }

    private void Publish(RuntimeEvent e) => _events.Writer.TryWrite(e);

    /// <summary>Stops the VM when no container is left (nor being created); else unplugs <paramref name="release"/>.</summary>
    private Task StopVmIfIdleAsync(IReadOnlyList<AttachedDevice>? release = null) =>
        _sandbox.StopIfIdleAsync(() => ContainerCount == 0, release);

    public async ValueTask DisposeAsync()
    {
        List<PodContainer> left;
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            left = [.. _containers.Values];
            _containers.Clear();
        }
        foreach (var c in left)
            await CleanupContainerAsync(c, removeInGuest: false, removeStorage: false).ConfigureAwait(false);
        await _sandbox.DisposeAsync().ConfigureAwait(false);
        // After the VM: a rootfs image goes once QEMU has let go of it.
        foreach (var c in left)
            _storage.Remove(c);
        _events.Writer.TryComplete();
    }
}
