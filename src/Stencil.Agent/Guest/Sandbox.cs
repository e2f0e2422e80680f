using Stencil.Agent.Containers;
using Stencil.Agent.Pod;
using Stencil.Interop;
using Stencil.Agent.Logging;
using Tmds.Linux;

namespace Stencil.Agent.Guest;

/// <summary>
/// The pod as the guest sees it: hostname, resolv.conf, and the shared 9p folder where the host
/// puts the containers' root file systems. One per VM. With pod namespaces (containerd's sandbox
/// API, no pause container) the hostname and resolv.conf are the pod's files instead, and a
/// holder process keeps the pod's IPC, UTS and PID namespaces (<see cref="PodSetup"/>).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "one sandbox per agent, as long-lived as the process")]
internal sealed class Sandbox
{
    // 9p's default msize (128 KiB in 6.1) is small; 512000 bytes (125 pages of the virtio ring) is the most the
    // virtio transport takes, and the kernel clamps a larger value with a warning.
    private const uint DefaultMsize = 512000;

    private readonly object _lock = new();
    // Create and Destroy, one at a time (they await the namespace holder).
    private readonly SemaphoreSlim _changing = new(1, 1);
    private readonly PodSetup _podSetup;
    private readonly IPodSyscalls _podSyscalls;
    private string? _id;
    private PodState? _pod;

    internal Sandbox()
        : this(new PodSyscalls(), GuestPaths.PodFilesRoot, "/etc/resolv.conf")
    {
    }

    /// <param name="podFilesDir">Where the pod's hostname, hosts and resolv.conf are written.</param>
    /// <param name="guestResolvConf">The guest's resolv.conf, the pod's when the request has no DNS settings.</param>
    internal Sandbox(IPodSyscalls podSyscalls, string podFilesDir, string guestResolvConf)
    {
        _podSyscalls = podSyscalls;
        _podSetup = new PodSetup(podSyscalls, podFilesDir, guestResolvConf);
    }

    internal string? SharedRoot { get; private set; }

    /// <summary>The pod namespaces' holder and files, when the sandbox was created with them.</summary>
    internal PodState? Pod
    {
        get
        {
            lock (_lock)
                return _pod;
        }
    }

    internal string? Id
    {
        get
        {
            lock (_lock)
                return _id;
        }
    }

    internal static SandboxSettings Validate(SandboxSettings s)
    {
        if (s.Hostname.Length > 64 || s.Hostname.Contains('\0') || s.Hostname.Contains('/'))
            throw StencilException.InvalidArgument($"hostname \"{s.Hostname}\" is not a valid host name");
        foreach (var server in s.DnsServers)
        {
            if (!System.Net.IPAddress.TryParse(server, out _))
                throw StencilException.InvalidArgument($"dns_servers entry \"{server}\" is not an IP address");
        }
        foreach (var line in s.DnsSearch.Concat(s.DnsOptions))
        {
            if (line.Contains('\n') || line.Contains(' '))
                throw StencilException.InvalidArgument($"dns entry \"{line}\" contains a space or a newline");
        }
        var path = string.IsNullOrEmpty(s.SharedGuestPath) ? GuestPaths.DefaultSharedPath : s.SharedGuestPath;
        if (s.MountTag is not null)
        {
            if (s.MountTag.Length == 0 || s.MountTag.Length > 31 || s.MountTag.Contains(','))
                throw StencilException.InvalidArgument($"shared.mount_tag \"{s.MountTag}\" is not a valid 9p tag");
            path = GuestPaths.Inside(GuestPaths.Base, path, "shared.guest_path");
            if (path == GuestPaths.Base || GuestPaths.IsUnder(path, GuestPaths.ContainersRoot) || GuestPaths.IsUnder(path, GuestPaths.RuntimeStateRoot)
                || GuestPaths.IsUnder(path, GuestPaths.PodFilesRoot))
                throw new StencilException(ErrorKind.PermissionDenied, $"shared.guest_path \"{path}\" collides with the agent's own folders");
        }
        return s with { SharedGuestPath = path };
    }

    /// <summary>Makes a namespace holder ahead of time for a pod without a pause container (see PreparedHolder); never throws.</summary>
    internal Task PrepareAsync() => _podSyscalls.PrepareHolderAsync();

    /// <summary>A namespace holder for a CRI sandbox container (the one made ahead of time, if any); its pid.</summary>
    internal Task<int> StartHolderAsync(string hostname, IReadOnlyList<Pod.Sysctl> ipcSysctls) => _podSyscalls.StartHolderAsync(hostname, ipcSysctls);

    internal async Task CreateAsync(SandboxSettings settings, CancellationToken cancellationToken)
    {
        settings = Validate(settings);
        await _changing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_lock)
            {
                if (_id is not null)
                    throw StencilException.AlreadyExists($"sandbox \"{_id}\" already exists in this VM");
            }
            var id = string.IsNullOrEmpty(settings.SandboxId) ? "sandbox" : settings.SandboxId;
            PodState? pod = null;
            if (settings.PodSysctls is not null)
            {
                // The pod's hostname lives in the holder's UTS namespace and its files are bound into
                // the containers: the guest's own hostname and /etc stay as they are.
                pod = await _podSetup.CreateAsync(id, settings, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                if (settings.Hostname.Length > 0)
                    SetHostname(settings.Hostname);
                if (settings.DnsServers.Count + settings.DnsSearch.Count + settings.DnsOptions.Count > 0)
                    WriteResolvConf(settings);
            }
            try
            {
                if (settings.MountTag is not null)
                    MountShared(settings);
            }
            catch when (pod is not null)
            {
                await _podSetup.DestroyAsync(pod).ConfigureAwait(false);
                throw;
            }
            lock (_lock)
            {
                _id = id;
                _pod = pod;
            }
        }
        finally
        {
            _changing.Release();
        }
    }

    private void MountShared(SandboxSettings settings)
    {
        Directory.CreateDirectory(settings.SharedGuestPath);
        var msize = settings.Msize == 0 ? DefaultMsize : settings.Msize;
        var data = $"trans=virtio,version=9p2000.L,cache=mmap,msize={msize}";
        if (Libc.Mount(settings.MountTag, settings.SharedGuestPath, "9p", LibC.MS_NOSUID | LibC.MS_NODEV, data) != 0)
            throw Errno.Exception(Errno.Last, $"mount 9p tag \"{settings.MountTag}\" on {settings.SharedGuestPath}");
        lock (_lock)
            SharedRoot = settings.SharedGuestPath;
        AgentLog.Debug($"shared folder {settings.MountTag} on {SharedRoot}");
    }

    /// <summary>Undoes Create; the containers are removed by the caller first.</summary>
    internal async Task DestroyAsync()
    {
        await _changing.WaitAsync().ConfigureAwait(false);
        try
        {
            PodState? pod;
            lock (_lock)
            {
                if (_id is null)
                    throw StencilException.NotFound("no sandbox exists in this VM");
                if (SharedRoot is not null && Libc.Umount2(SharedRoot, LibC.MNT_DETACH) != 0)
                    AgentLog.Warn($"umount {SharedRoot}: errno {Errno.Last}");
                SharedRoot = null;
                pod = _pod;
                _pod = null;
                _id = null;
            }
            if (pod is not null)
                await _podSetup.DestroyAsync(pod).ConfigureAwait(false);
        }
        finally
        {
            _changing.Release();
        }
    }

    private static void SetHostname(string name) => Errno.Check(Libc.SetHostname(name), $"sethostname \"{name}\"");

    private static void WriteResolvConf(SandboxSettings s)
    {
        Directory.CreateDirectory("/etc");
        File.WriteAllText("/etc/resolv.conf", PodFiles.ResolvConfText(s.DnsServers, s.DnsSearch, s.DnsOptions, guestResolvConf: null));
    }
}
