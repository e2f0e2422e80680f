using Microsoft.Win32.SafeHandles;
using Stencil.Runtime.Network;

namespace Stencil.Runtime.Tests.Pod;

/// <summary>A pod network that attaches nothing: a tap "fd" on /dev/null and a fixed interface; records attach and detach.</summary>
internal sealed class FakePodNetwork : IPodNetwork
{
    public List<string> Calls { get; } = [];

    public Task<TapAttachment> AttachAsync(string networkNamespacePath, CancellationToken cancellationToken = default)
    {
        lock (Calls)
            Calls.Add($"attach {networkNamespacePath}");
        var fd = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.ReadWrite);
        var pod = new PodInterface("eth0", "02:00:00:00:00:01", 1500, [], []);
        return Task.FromResult(new TapAttachment(networkNamespacePath, "tap0", pod, fd));
    }

    public Task DetachAsync(TapAttachment attachment, CancellationToken cancellationToken = default)
    {
        lock (Calls)
            Calls.Add($"detach {attachment.NetworkNamespacePath}");
        attachment.Dispose();
        return Task.CompletedTask;
    }
}
