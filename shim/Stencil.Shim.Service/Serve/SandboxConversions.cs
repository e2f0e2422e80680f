using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.Sandbox;
using Stencil.Protocols.Cri;
using Stencil.Runtime;
using static Stencil.Shim.Serve.TaskConversions;

namespace Stencil.Shim.Serve;

/// <summary>
/// Pure conversions between containerd's sandbox API messages and the runtime's records. The pod's
/// configuration arrives as a runtime.v1.PodSandboxConfig packed in CreateSandbox's options; it comes from
/// containerd (trusted), but is still bounded: a config that does not parse is InvalidArgument.
/// </summary>
internal static class SandboxConversions
{
    /// <summary>The Any type URL containerd packs the CRI pod config with (with or without the googleapis prefix).</summary>
    public const string PodSandboxConfigType = "runtime.v1.PodSandboxConfig";

    public static SandboxRequest ToRequest(CreateSandboxRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var config = PodConfig(request);
        var ns = config.Linux?.SecurityContext?.NamespaceOptions;
        var annotations = new Dictionary<string, string>(config.Annotations);
        foreach (var (key, value) in request.Annotations)
            annotations[key] = value;
        return new SandboxRequest(
            request.SandboxId,
            request.BundlePath,
            string.IsNullOrEmpty(request.NetnsPath) ? null : request.NetnsPath,
            config.Hostname,
            [.. config.DnsConfig?.Servers ?? []],
            [.. config.DnsConfig?.Searches ?? []],
            [.. config.DnsConfig?.Options ?? []],
            config.Linux?.Sysctls.ToDictionary() ?? [],
            annotations,
            PidMode: (PodNamespaceMode)(int)(ns?.Pid ?? NamespaceMode.Container),
            IpcMode: (PodNamespaceMode)(int)(ns?.Ipc ?? NamespaceMode.Pod),
            UserNamespace: ns?.UsernsOptions is { Mode: NamespaceMode.Pod },
            CgroupParent: string.IsNullOrEmpty(config.Linux?.CgroupParent) ? null : config.Linux.CgroupParent);
    }

    /// <summary>The PodSandboxConfig in the options; an empty config when there are none (a sandbox made without CRI).</summary>
    internal static PodSandboxConfig PodConfig(CreateSandboxRequest request)
    {
        if (request.Options is not { } options || options.TypeUrl.Length == 0)
            return new PodSandboxConfig();
        var type = options.TypeUrl[(options.TypeUrl.LastIndexOf('/') + 1)..];
        if (type != PodSandboxConfigType)
            throw StencilException.InvalidArgument($"sandbox {request.SandboxId}: options of type \"{options.TypeUrl}\" are not a {PodSandboxConfigType}");
        try
        {
            return PodSandboxConfig.Parser.ParseFrom(options.Value);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw StencilException.InvalidArgument($"sandbox {request.SandboxId}: its {PodSandboxConfigType} does not parse: {ex.Message}");
        }
    }

    public static SandboxStatusResponse ToStatus(SandboxStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var response = new SandboxStatusResponse
        {
            SandboxId = status.Id,
            Pid = status.Pid,
            State = status.Ready ? "SANDBOX_READY" : "SANDBOX_NOTREADY",
            CreatedAt = Timestamp.FromDateTimeOffset(status.CreatedAt),
            ExitedAt = ToTimestamp(status.ExitedAt),
        };
        foreach (var (key, value) in status.Info)
            response.Info[key] = value;
        return response;
    }
}
