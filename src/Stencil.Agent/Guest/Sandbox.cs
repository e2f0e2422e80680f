using System.Text;
using Stencil.Agent.Containers;
using Stencil.Interop;
using Stencil.Agent.Logging;
using Tmds.Linux;

namespace Stencil.Agent.Guest;

/// <summary>
/// The pod as the guest sees it: hostname, resolv.conf, and the shared 9p folder where the host
/// puts the containers' root file systems. One per VM.
/// </summary>
internal sealed class Sandbox
{
    // 9p's default msize (128 KiB in 6.1) is small; 512000 bytes (125 pages of the virtio ring) is the most the
    // virtio transport takes, and the kernel clamps a larger value with a warning.
    private const uint DefaultMsize = 512000;

    private readonly object _lock = new();
    private string? _id;

    internal string? SharedRoot { get; private set; }

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
            if (path == GuestPaths.Base || GuestPaths.IsUnder(path, GuestPaths.ContainersRoot) || GuestPaths.IsUnder(path, GuestPaths.RuntimeStateRoot))
                throw new StencilException(ErrorKind.PermissionDenied, $"shared.guest_path \"{path}\" collides with the agent's own folders");
        }
        return s with { SharedGuestPath = path };
    }

    internal void Create(SandboxSettings settings)
    {
        settings = Validate(settings);
        lock (_lock)
        {
            if (_id is not null)
                throw StencilException.AlreadyExists($"sandbox \"{_id}\" already exists in this VM");
            if (settings.Hostname.Length > 0)
                SetHostname(settings.Hostname);
            if (settings.DnsServers.Count + settings.DnsSearch.Count + settings.DnsOptions.Count > 0)
                WriteResolvConf(settings);
            if (settings.MountTag is not null)
            {
                Directory.CreateDirectory(settings.SharedGuestPath);
                var msize = settings.Msize == 0 ? DefaultMsize : settings.Msize;
                var data = $"trans=virtio,version=9p2000.L,cache=mmap,msize={msize}";
                if (Libc.Mount(settings.MountTag, settings.SharedGuestPath, "9p", LibC.MS_NOSUID | LibC.MS_NODEV, data) != 0)
                    throw Errno.Exception(Errno.Last, $"mount 9p tag \"{settings.MountTag}\" on {settings.SharedGuestPath}");
                SharedRoot = settings.SharedGuestPath;
                AgentLog.Debug($"shared folder {settings.MountTag} on {SharedRoot}");
            }
            _id = string.IsNullOrEmpty(settings.SandboxId) ? "sandbox" : settings.SandboxId;
        }
    }

    /// <summary>Undoes Create; the containers are removed by the caller first.</summary>
    internal void Destroy()
    {
        lock (_lock)
        {
            if (_id is null)
                throw StencilException.NotFound("no sandbox exists in this VM");
            if (SharedRoot is not null && Libc.Umount2(SharedRoot, LibC.MNT_DETACH) != 0)
                AgentLog.Warn($"umount {SharedRoot}: errno {Errno.Last}");
            SharedRoot = null;
            _id = null;
        }
    }

    private static void SetHostname(string name) => Errno.Check(Libc.SetHostname(name), $"sethostname \"{name}\"");

    private static void WriteResolvConf(SandboxSettings s)
    {
        var text = new StringBuilder();
        foreach (var server in s.DnsServers)
            text.Append("nameserver ").Append(server).Append('\n');
        if (s.DnsSearch.Count > 0)
            text.Append("search ").Append(string.Join(' ', s.DnsSearch)).Append('\n');
        if (s.DnsOptions.Count > 0)
            text.Append("options ").Append(string.Join(' ', s.DnsOptions)).Append('\n');
        Directory.CreateDirectory("/etc");
        File.WriteAllText("/etc/resolv.conf", text.ToString());
    }
}
