using Google.Protobuf;
using Stencil.TestSupport;
using Stencil.Ttrpc;

namespace Stencil.EndToEnd.Tests;

/// <summary>
/// The published shim driven directly, as containerd drives it: `start` and `delete` runs with the run's
/// configuration in STENCIL_CONFIG and containerd's ttRPC socket in TTRPC_ADDRESS, and Task API calls
/// on the address `start` printed.
/// </summary>
internal sealed class ShimBinary(StencilContainerd s)
{
    public const string TaskService = "containerd.task.v2.Task";

    /// <summary>The flags containerd passes to `start` and `delete` (plus -bundle, which it gives `delete`).</summary>
    public string[] Flags(string id, string bundle) =>
        ["-namespace", "default", "-address", s.Containerd.Address, "-publish-binary", "/usr/bin/containerd", "-id", id, "-bundle", bundle];

    public Task<CommandResult> RunAsync(params string[] args) =>
        ChildProcess.RunAsync(ShimBinaries.Shim, args, TimeSpan.FromSeconds(30),
            new Dictionary<string, string> { ["STENCIL_CONFIG"] = s.ConfigPath, ["TTRPC_ADDRESS"] = s.Containerd.TtrpcAddress });

    public static Task<TResponse> CallAsync<TRequest, TResponse>(TtrpcClient client, string method, TRequest request)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        client.CallAsync(new TtrpcMethod<TRequest, TResponse>(TaskService, method), request, new TtrpcCallOptions { Timeout = TimeSpan.FromSeconds(60) });

    /// <summary>Alive and not a zombie (an exited daemon waits for init to reap it).</summary>
    public static bool IsRunning(int pid) => Leftovers.IsRunning(pid);
}
