using Google.Protobuf;
using Stencil.Agent.Containers;
using Stencil.Agent.Guest;
using Stencil.Agent.Logging;
using Stencil.Agent.PortForward;
using Stencil.Agent.Processes;
using Stencil.Protocols.Agent;
using Stencil.Ttrpc;

namespace Stencil.Agent.Service;

/// <summary>
/// The ttRPC service edge: decodes each request, delegates, encodes the answer. Protobuf types stop
/// here (apart from the network messages, which are plain data). Errors are
/// StencilExceptions; the ttRPC server maps their kind to a status.
/// </summary>
internal sealed class AgentService(Sandbox sandbox, ContainerManager containers, Network network, CpuMemOnliner onliner)
{
    private static readonly Empty s_empty = new();

    // CRI port forwarding's connections in the guest; they end with the sandbox.
    private readonly PortForwards _forwards = new();

    internal void Register(TtrpcServer server)
    {
        server.Register(AgentMethods.Check, (_, _) => Task.FromResult(new CheckResponse { Status = CheckResponse.Types.ServingStatus.Serving }));
        server.Register(AgentMethods.Version, (_, _) => Task.FromResult(new VersionResponse
        {
            AgentVersion = AgentVersion.Version,
            ApiVersion = AgentVersion.ApiVersion,
        }));

        server.Register(AgentMethods.CreateSandbox, CreateSandboxAsync);
        server.Register(AgentMethods.DestroySandbox, DestroySandboxAsync);
        server.Register(AgentMethods.CreateContainer, CreateContainerAsync);
        server.Register(AgentMethods.StartContainer, async (r, c) => { await containers.StartAsync(r.ContainerId, c.CancellationToken).ConfigureAwait(false); return s_empty; });
        server.Register(AgentMethods.RemoveContainer, async (r, c) => { await containers.RemoveAsync(r.ContainerId, r.Force, c.CancellationToken).ConfigureAwait(false); return s_empty; });
        server.Register(AgentMethods.PauseContainer, async (r, c) => { await containers.PauseAsync(r.ContainerId, c.CancellationToken).ConfigureAwait(false); return s_empty; });
        server.Register(AgentMethods.ResumeContainer, async (r, c) => { await containers.ResumeAsync(r.ContainerId, c.CancellationToken).ConfigureAwait(false); return s_empty; });
        server.Register(AgentMethods.UpdateContainer, async (r, c) => { await containers.UpdateAsync(r.ContainerId, r.ResourcesJson.Memory, c.CancellationToken).ConfigureAwait(false); return s_empty; });
        server.Register(AgentMethods.StatsContainer, (r, _) => Task.FromResult(StatsMapping.ToProto(containers.Stats(r.ContainerId))));
        server.Register(AgentMethods.ListProcesses, (r, _) => Task.FromResult(ListProcesses(r.ContainerId)));

        server.Register(AgentMethods.ExecProcess, async (r, c) => new ExecProcessResponse
        {
            Pid = (uint)await containers.ExecAsync(r.ContainerId, r.ExecId, r.ProcessJson.Memory, c.CancellationToken).ConfigureAwait(false),
        });
        server.Register(AgentMethods.SignalProcess, async (r, c) =>
        {
            await containers.SignalAsync(r.ContainerId, r.ExecId, (int)r.Signal, r.All, c.CancellationToken).ConfigureAwait(false);
            return s_empty;
        });
        server.Register(AgentMethods.WaitProcess, async (r, c) =>
        {
            var status = await containers.WaitAsync(r.ContainerId, r.ExecId, c.CancellationToken).ConfigureAwait(false);
            return new WaitProcessResponse { ExitCode = status.ExitCode, ExitedAtUnixNano = UnixNanos(status.ExitedAt) };
        });

        server.Register(AgentMethods.WriteStdin, async (r, c) => new WriteStreamResponse
        {
            Len = (uint)await containers.Process(r.ContainerId, r.ExecId).Io.WriteStdinAsync(r.Data.Memory, c.CancellationToken).ConfigureAwait(false),
        });
        server.Register(AgentMethods.ReadStdout, (r, c) => ReadAsync(r, stderr: false, c));
        server.Register(AgentMethods.ReadStderr, (r, c) => ReadAsync(r, stderr: true, c));
        server.Register(AgentMethods.CloseStdin, async (r, c) =>
        {
            await containers.Process(r.ContainerId, r.ExecId).Io.CloseStdinAsync(c.CancellationToken).ConfigureAwait(false);
            return s_empty;
        });
        server.Register(AgentMethods.TtyWinResize, (r, _) =>
        {
            if (r.Rows is 0 or > ushort.MaxValue || r.Columns is 0 or > ushort.MaxValue)
                throw StencilException.InvalidArgument($"terminal size {r.Rows}x{r.Columns} is out of range (1-65535)");
            containers.Process(r.ContainerId, r.ExecId).Io.Resize((ushort)r.Rows, (ushort)r.Columns);
            return Task.FromResult(s_empty);
        });
        server.Register(AgentMethods.GetOOMEvent, async (_, c) => new OOMEvent
        {
            ContainerId = await containers.Oom.NextAsync(c.CancellationToken).ConfigureAwait(false),
        });

        server.Register(AgentMethods.OnlineCPUMem, OnlineCpuMemAsync);
        server.Register(AgentMethods.ReseedRandomDev, (r, _) =>
        {
            GuestEntropy.Reseed(r.Data.Span);
            return Task.FromResult(s_empty);
        });
        server.Register(AgentMethods.SetGuestDateTime, (r, _) =>
        {
            GuestClock.Set(r.Sec, r.Nsec);
            return Task.FromResult(s_empty);
        });
        server.Register(AgentMethods.GetGuestDetails, (_, _) => Task.FromResult(GuestDetails()));
        server.Register(AgentMethods.WarmUp, async (_, c) =>
        {
            // The OCI runtime's warm run, and a namespace holder made ahead of time for a pod without a pause container.
            var holder = sandbox.PrepareAsync();
            var took = await containers.WarmUpAsync(c.CancellationToken).ConfigureAwait(false);
            await holder.ConfigureAwait(false);
            return new WarmUpResponse { Micros = (ulong)took.Ticks / 10 };
        });

        server.Register(AgentMethods.UpdateInterface, (r, c) =>
            network.UpdateInterfaceAsync(r.Interface ?? throw StencilException.InvalidArgument("interface is missing"), c.CancellationToken));
        server.Register(AgentMethods.UpdateRoutes, async (r, c) =>
        {
            var applied = await network.UpdateRoutesAsync(r.Routes, c.CancellationToken).ConfigureAwait(false);
            var result = new Routes();
            result.Routes_.AddRange(applied);
            return result;
        });
        server.Register(AgentMethods.ListInterfaces, async (_, c) =>
        {
            var result = new Interfaces();
            result.Interfaces_.AddRange(await network.ListAsync(c.CancellationToken).ConfigureAwait(false));
            return result;
        });

        server.Register(AgentMethods.PortForwardOpen, async (r, c) => new PortForwardOpenResponse
        {
            StreamId = await _forwards.OpenAsync(r.Port, c.CancellationToken).ConfigureAwait(false),
        });
        server.Register(AgentMethods.PortForwardWrite, async (r, c) => new PortForwardWriteResponse
        {
            Len = (uint)await _forwards.Get(r.StreamId).WriteAsync(r.Data.Memory, c.CancellationToken).ConfigureAwait(false),
        });
        server.Register(AgentMethods.PortForwardRead, async (r, c) =>
        {
            var data = await _forwards.Get(r.StreamId).ReadAsync((int)Math.Min(r.MaxLen, PortForwardConnection.MaxChunk), c.CancellationToken).ConfigureAwait(false);
            return new PortForwardReadResponse { Data = UnsafeByteOperations.UnsafeWrap(data), Eof = data.Length == 0 };
        });
        server.Register(AgentMethods.PortForwardCloseWrite, (r, _) =>
        {
            _forwards.Get(r.StreamId).CloseWrite();
            return Task.FromResult(s_empty);
        });
        server.Register(AgentMethods.PortForwardClose, (r, _) =>
        {
            _forwards.Close(r.StreamId);
            return Task.FromResult(s_empty);
        });
    }

    private async Task<Empty> CreateSandboxAsync(CreateSandboxRequest r, TtrpcCallContext context)
    {
        await sandbox.CreateAsync(new SandboxSettings(r.SandboxId, r.Hostname, r.DnsServers, r.DnsSearch, r.DnsOptions,
            r.Shared?.MountTag, r.Shared?.GuestPath ?? "", r.Shared?.Msize ?? 0)
        {
            PodSysctls = r.PodNamespaces is { } pod ? [.. pod.Sysctls.Select(s => new Pod.Sysctl(s.Key, s.Value))] : null,
        }, context.CancellationToken).ConfigureAwait(false);
        return s_empty;
    }

    private async Task<Empty> DestroySandboxAsync(DestroySandboxRequest r, TtrpcCallContext context)
    {
        _forwards.CloseAll();
        await containers.RemoveAllAsync(context.CancellationToken).ConfigureAwait(false);
        containers.UnmountEphemeralVolumes();
        await sandbox.DestroyAsync().ConfigureAwait(false);
        return s_empty;
    }

    private async Task<CreateContainerResponse> CreateContainerAsync(CreateContainerRequest r, TtrpcCallContext context)
    {
        var storages = new List<StorageRequest>();
        for (var i = 0; i < r.Storages.Count; i++)
        {
            var s = r.Storages[i];
            switch (s.SourceCase)
            {
                case Storage.SourceOneofCase.SharedPath:
                    storages.Add(new StorageRequest(s.SharedPath, null, null, TimeSpan.Zero, s.Fstype, s.Options, s.MountPoint));
                    break;
                case Storage.SourceOneofCase.Block:
                    var b = s.Block;
                    var timeout = TimeSpan.FromMilliseconds(b.TimeoutMs == 0 ? 10_000 : b.TimeoutMs);
                    storages.Add(b.IdCase switch
                    {
                        BlockDevice.IdOneofCase.PciAddress => new StorageRequest(null, b.PciAddress, null, timeout, s.Fstype, s.Options, s.MountPoint),
                        BlockDevice.IdOneofCase.Serial => new StorageRequest(null, null, b.Serial, timeout, s.Fstype, s.Options, s.MountPoint),
                        _ => throw StencilException.InvalidArgument($"storages[{i}].block has neither pci_address nor serial"),
                    });
                    break;
                case Storage.SourceOneofCase.Ephemeral:
                    storages.Add(new StorageRequest(null, null, null, TimeSpan.Zero, "tmpfs", s.Options, s.MountPoint) { Ephemeral = s.Ephemeral, EphemeralSubpath = s.EphemeralSubpath });
                    break;
                default:
                    throw StencilException.InvalidArgument($"storages[{i}] has neither shared_path, block nor ephemeral");
            }
        }
        var devices = new List<DeviceRequest>();
        for (var i = 0; i < r.Devices.Count; i++)
        {
            var d = r.Devices[i];
            if (d.Type != "blk")
                throw StencilException.InvalidArgument($"devices[{i}].type \"{d.Type}\" is not supported (only \"blk\": a virtio-blk disk found by serial)");
            if (string.IsNullOrEmpty(d.Id))
                throw StencilException.InvalidArgument($"devices[{i}].id (the disk's serial) is empty");
            if (!d.ContainerPath.StartsWith('/'))
                throw StencilException.InvalidArgument($"devices[{i}].container_path \"{d.ContainerPath}\" must be an absolute path");
            devices.Add(new DeviceRequest(d.Id, d.ContainerPath, TimeSpan.FromMilliseconds(d.TimeoutMs == 0 ? 10_000 : d.TimeoutMs)));
        }
        var steps = new StepTimes();
        var pid = await containers.CreateAsync(r.ContainerId, r.OciSpecJson.Memory, storages, devices, r.OciRuntime, steps, context.CancellationToken)
            .ConfigureAwait(false);
        var response = new CreateContainerResponse { Pid = (uint)pid };
        foreach (var (name, ms) in steps.Steps)
            response.Steps.Add(new StepTime { Name = name, Micros = (uint)Math.Clamp(ms * 1000, 0, uint.MaxValue) });
        return response;
    }

    private ListProcessesResponse ListProcesses(string containerId)
    {
        var response = new ListProcessesResponse();
        foreach (var (pid, args) in containers.ListProcesses(containerId))
        {
            var info = new ProcessInfo { Pid = (uint)pid };
            info.Args.AddRange(args);
            response.Processes.Add(info);
        }
        return response;
    }

    private async Task<ReadStreamResponse> ReadAsync(ReadStreamRequest r, bool stderr, TtrpcCallContext context)
    {
        var process = containers.Process(r.ContainerId, r.ExecId);
        var (data, eof) = await process.Io.ReadAsync(stderr, (int)Math.Min(r.MaxLen, ProcessIo.MaxChunk), context.CancellationToken).ConfigureAwait(false);
        return new ReadStreamResponse { Data = UnsafeByteOperations.UnsafeWrap(data), Eof = eof };
    }

    private async Task<OnlineCPUMemResponse> OnlineCpuMemAsync(OnlineCPUMemRequest r, TtrpcCallContext context)
    {
        var timeout = TimeSpan.FromMilliseconds(r.TimeoutMs == 0 ? 5000 : r.TimeoutMs);
        var result = await onliner.OnlineAsync((int)r.NbCpus, r.CpuOnly, timeout, context.CancellationToken).ConfigureAwait(false);
        var meminfo = File.ReadAllText("/proc/meminfo");
        return new OnlineCPUMemResponse
        {
            CpusOnline = (uint)result.CpusOnline,
            CpusOnlined = (uint)result.CpusOnlined,
            MemoryBlocksOnlined = (uint)result.MemoryBlocksOnlined,
            MemoryTotalBytes = GuestInfo.KiloBytesField(meminfo, "MemTotal"),
        };
    }

    private GuestDetails GuestDetails()
    {
        var meminfo = File.ReadAllText("/proc/meminfo");
        var details = new GuestDetails
        {
            KernelRelease = GuestInfo.KernelRelease(),
            MemoryTotalBytes = GuestInfo.KiloBytesField(meminfo, "MemTotal"),
            MemoryAvailableBytes = GuestInfo.KiloBytesField(meminfo, "MemAvailable"),
            CpusOnline = (uint)onliner.CpusOnline(),
            CpusPossible = (uint)GuestInfo.CpusPossible(),
            AgentVersion = AgentVersion.Version,
            MemoryBlockSizeBytes = GuestInfo.MemoryBlockSize(),
            AgentRssBytes = GuestInfo.OwnRss(),
        };
        details.OciRuntimes.AddRange(containers.Runtimes.Select(r => r.Name));
        return details;
    }

    private static long UnixNanos(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
}
