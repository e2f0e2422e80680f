using System.Net;
using Google.Protobuf;
using Proto = Stencil.Protocols.Agent;

namespace Stencil.Agent.Client.Internal;

/// <summary>Between the client's records and agent.proto's messages. Pure.</summary>
internal static class ProtoMapping
{
    internal static Proto.CreateSandboxRequest ToProto(SandboxConfig c)
    {
        var r = new Proto.CreateSandboxRequest { SandboxId = c.SandboxId, Hostname = c.Hostname ?? "" };
        r.DnsServers.AddRange(c.DnsServers ?? []);
        r.DnsSearch.AddRange(c.DnsSearch ?? []);
        r.DnsOptions.AddRange(c.DnsOptions ?? []);
        if (c.Shared is { } s)
            r.Shared = new Proto.SharedFolder { MountTag = s.MountTag, GuestPath = s.GuestPath ?? "", Msize = s.Msize };
        if (c.PodNamespaces is { } pod)
        {
            r.PodNamespaces = new Proto.PodNamespaces();
            // Sorted: the same config gives the same bytes (a dictionary's order is not defined).
            foreach (var (key, value) in pod.Sysctls.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                r.PodNamespaces.Sysctls.Add(new Proto.Sysctl { Key = key, Value = value });
        }
        return r;
    }

    internal static Proto.CreateContainerRequest ToProto(ContainerConfig c)
    {
        var r = new Proto.CreateContainerRequest
        {
            ContainerId = c.Id,
            OciSpecJson = ByteString.CopyFrom(c.OciSpecJson.Span),
            OciRuntime = c.OciRuntime ?? "",
        };
        foreach (var s in c.Storages ?? [])
            r.Storages.Add(ToProto(s));
        foreach (var d in c.Devices ?? [])
        {
            r.Devices.Add(new Proto.Device
            {
                Id = d.Serial,
                Type = "blk",
                ContainerPath = d.ContainerPath,
                TimeoutMs = (uint)(d.Timeout?.TotalMilliseconds ?? 0),
            });
        }
        return r;
    }

    internal static Proto.Storage ToProto(StorageMount s)
    {
        var storage = new Proto.Storage { Fstype = s.FsType, MountPoint = s.MountPoint };
        storage.Options.AddRange(s.Options ?? []);
        var timeoutMs = (uint)(s.DeviceTimeout?.TotalMilliseconds ?? 0);
        switch (s.Kind)
        {
            case StorageKind.SharedPath:
                storage.SharedPath = s.Source;
                break;
            case StorageKind.BlockByPci:
                storage.Block = new Proto.BlockDevice { PciAddress = s.Source, TimeoutMs = timeoutMs };
                break;
            case StorageKind.BlockBySerial:
                storage.Block = new Proto.BlockDevice { Serial = s.Source, TimeoutMs = timeoutMs };
                break;
            case StorageKind.Ephemeral:
                storage.Ephemeral = s.Source;
                storage.EphemeralSubpath = s.Subpath;
                break;
            default:
                throw StencilException.InvalidArgument($"storage kind {s.Kind} is not known");
        }
        return storage;
    }

    internal static ContainerStatistics FromProto(Proto.ContainerStats s) => new(
        s.Cpu?.UsageUsec ?? 0, s.Cpu?.UserUsec ?? 0, s.Cpu?.SystemUsec ?? 0,
        s.Cpu?.NrPeriods ?? 0, s.Cpu?.NrThrottled ?? 0, s.Cpu?.ThrottledUsec ?? 0,
        s.Memory?.UsageBytes ?? 0, s.Memory?.LimitBytes ?? 0, s.Memory?.MaxUsageBytes ?? 0,
        s.Memory?.AnonBytes ?? 0, s.Memory?.FileBytes ?? 0, s.Memory?.OomKills ?? 0,
        s.Pids?.Current ?? 0, s.Pids?.Limit ?? 0,
        s.Io?.ReadBytes ?? 0, s.Io?.WriteBytes ?? 0, s.Io?.ReadIos ?? 0, s.Io?.WriteIos ?? 0)
    {
        MemoryPageFaults = s.Memory?.PageFaults ?? 0,
        MemoryMajorPageFaults = s.Memory?.MajorPageFaults ?? 0,
        MemoryInactiveFileBytes = s.Memory?.InactiveFileBytes ?? 0,
    };

    internal static GuestDetails FromProto(Proto.GuestDetails d) => new(
        GuestText.Printable(d.KernelRelease, 128), d.MemoryTotalBytes, d.MemoryAvailableBytes, (int)Math.Min(d.CpusOnline, 4096u), (int)Math.Min(d.CpusPossible, 4096u),
        GuestText.Printable(d.AgentVersion, 128), [.. d.OciRuntimes.Take(8).Select(r => GuestText.Printable(r, 64))], d.MemoryBlockSizeBytes, d.AgentRssBytes);

    internal static DateTimeOffset FromUnixNanos(long nanos) => DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);

    internal static (long Seconds, long Nanos) ToUnix(DateTimeOffset t)
    {
        var ticks = t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return (Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var rest), rest * 100);
    }

    internal static Proto.Interface ToProto(NetworkInterface i)
    {
        var p = new Proto.Interface { Name = i.Name ?? "", HwAddr = i.HardwareAddress ?? "", Mtu = (uint)Math.Max(0, i.Mtu), Up = i.Up };
        foreach (var a in i.Addresses ?? [])
            p.Addresses.Add(new Proto.IPAddress { Address = a.Address.ToString(), PrefixLength = (uint)a.PrefixLength });
        return p;
    }

    /// <summary>The interface, or null when an address does not parse or its prefix does not fit it (the guest's word).</summary>
    internal static NetworkInterface? TryFromProto(Proto.Interface p)
    {
        var addresses = new List<InterfaceAddress>();
        foreach (var a in p.Addresses)
        {
            if (!IPAddress.TryParse(a.Address, out var address)
                || a.PrefixLength > (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128u : 32u))
                return null;
            addresses.Add(new InterfaceAddress(address, (int)a.PrefixLength));
        }
        return new NetworkInterface(GuestText.Printable(p.Name, 64), GuestText.Printable(p.HwAddr, 64), (int)Math.Min(p.Mtu, 65535u), addresses, p.Up);
    }

    internal static Proto.Route ToProto(NetworkRoute r) => new()
    {
        Destination = r.Destination,
        Gateway = r.Gateway ?? "",
        Device = r.Device ?? "",
        Source = r.Source ?? "",
        Scope = r.Scope ?? "",
    };

    internal static NetworkRoute FromProto(Proto.Route r) => new(
        r.Destination, NullIfEmpty(r.Gateway), NullIfEmpty(r.Device), NullIfEmpty(r.Source), NullIfEmpty(r.Scope));

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
