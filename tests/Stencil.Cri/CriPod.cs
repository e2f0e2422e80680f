using System.Text.Json;
using Grpc.Core;
using Stencil.Cri.V1;

namespace Stencil.Cri;

/// <summary>
/// One pod driven through CRI the way a kubelet does it: RunPodSandbox, then containers created and
/// started in it; <see cref="RemoveAsync"/> stops and removes every container it created, then stops
/// and removes the sandbox. Disposing does the same, best effort, so a failed test leaves nothing.
/// </summary>
public sealed class CriPod : IAsyncDisposable
{
    private readonly CriClient _client;
    private readonly List<string> _containers = [];
    private bool _removed;

    private CriPod(CriClient client, string id, PodSandboxConfig config)
    {
        _client = client;
        Id = id;
        Config = config;
    }

    public string Id { get; }

    public PodSandboxConfig Config { get; }

    /// <summary>The containers created through this pod and not yet removed through it.</summary>
    public IReadOnlyList<string> ContainerIds => [.. _containers];

    public static async Task<CriPod> RunAsync(CriClient client, PodSandboxConfig config, string runtimeHandler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var id = await client.RunPodSandboxAsync(config, runtimeHandler, cancellationToken).ConfigureAwait(false);
        return new CriPod(client, id, config);
    }

    public async Task<string> CreateContainerAsync(ContainerConfig config, CancellationToken cancellationToken = default)
    {
        var id = await _client.CreateContainerAsync(Id, config, Config, cancellationToken).ConfigureAwait(false);
        _containers.Add(id);
        return id;
    }

    /// <summary>CreateContainer then StartContainer.</summary>
    public async Task<string> RunContainerAsync(ContainerConfig config, CancellationToken cancellationToken = default)
    {
        var id = await CreateContainerAsync(config, cancellationToken).ConfigureAwait(false);
        await _client.StartContainerAsync(id, cancellationToken).ConfigureAwait(false);
        return id;
    }

    /// <summary>StopContainer then RemoveContainer.</summary>
    public async Task RemoveContainerAsync(string containerId, TimeSpan gracePeriod, CancellationToken cancellationToken = default)
    {
        await _client.StopContainerAsync(containerId, gracePeriod, cancellationToken).ConfigureAwait(false);
        await _client.RemoveContainerAsync(containerId, cancellationToken).ConfigureAwait(false);
        _containers.Remove(containerId);
    }

    public async Task<PodSandboxStatus> StatusAsync(CancellationToken cancellationToken = default) =>
        (await _client.PodSandboxStatusAsync(Id, verbose: false, cancellationToken).ConfigureAwait(false)).Status;

    /// <summary>The pod's network namespace path from the sandbox's OCI spec (containerd's verbose status),
    /// or null when the pod has none of its own (host network).</summary>
    public async Task<string?> NetworkNamespacePathAsync(CancellationToken cancellationToken = default)
    {
        var response = await _client.PodSandboxStatusAsync(Id, verbose: true, cancellationToken).ConfigureAwait(false);
        if (!response.Info.TryGetValue("info", out var json))
            throw new InvalidOperationException($"pod {Id}: the verbose status has no \"info\" entry (keys: {string.Join(", ", response.Info.Keys)})");
        return NetworkNamespacePath(json);
    }

    /// <summary>linux.namespaces[type=network].path of the runtimeSpec in containerd's sandbox info JSON.</summary>
    public static string? NetworkNamespacePath(string sandboxInfoJson)
    {
        using var document = JsonDocument.Parse(sandboxInfoJson);
        if (!document.RootElement.TryGetProperty("runtimeSpec", out var spec)
            || !spec.TryGetProperty("linux", out var linux)
            || !linux.TryGetProperty("namespaces", out var namespaces))
            return null;
        foreach (var ns in namespaces.EnumerateArray())
        {
            if (ns.TryGetProperty("type", out var type) && type.GetString() == "network")
                return ns.TryGetProperty("path", out var path) ? path.GetString() : null;
        }
        return null;
    }

    /// <summary>Stops and removes this pod's containers (grace period zero), then the sandbox.</summary>
    public async Task RemoveAsync(CancellationToken cancellationToken = default)
    {
        foreach (var container in _containers.ToList())
            await RemoveContainerAsync(container, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        await _client.StopPodSandboxAsync(Id, cancellationToken).ConfigureAwait(false);
        await _client.RemovePodSandboxAsync(Id, cancellationToken).ConfigureAwait(false);
        _removed = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_removed)
            return;
        try
        {
            await RemoveAsync().ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // Best effort: the test already failed or the runtime is gone; RemovePodSandbox removes the
            // containers left in the pod as well, so try that alone once more.
            try
            {
                await _client.StopPodSandboxAsync(Id).ConfigureAwait(false);
                await _client.RemovePodSandboxAsync(Id).ConfigureAwait(false);
            }
            catch (RpcException)
            {
            }
        }
    }
}
