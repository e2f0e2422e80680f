using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Protocols.Containerd.Task;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Storage;
using Stencil.Shim.Flags;
using Stencil.Shim.Start;

namespace Stencil.Shim.Delete;

/// <summary>
/// `delete`: containerd's cleanup after one container's task, run whether or not the daemon lives.
/// It removes only that container's host state (and the pod's, when this container is the pod and its
/// daemon is gone), and prints a marshalled DeleteResponse. It fails only when it cannot tell what to
/// clean; everything else becomes a warning on stderr.
/// </summary>
internal static class DeleteCommand
{
    /// <summary>128 + SIGKILL: what containerd's own shims report for a task cleaned up this way.</summary>
    public const uint ExitStatus = 137;

    public static (byte[] Response, IReadOnlyList<string> Warnings) Run(ShimFlags flags, IMounter mounter, TimeProvider? time = null)
    {
        var warnings = new List<string>();
        var bundle = flags.Bundle.Length > 0 ? flags.Bundle : Directory.GetCurrentDirectory();

        string podId;
        try
        {
            podId = BundleFiles.PodId(bundle, flags.Id);
        }
        catch (StencilException ex)
        {
            // No config.json at all is a sandbox's bundle (containerd 2.x's sandbox API): the id is the pod's.
            if (ex.Kind != ErrorKind.NotFound)
                warnings.Add($"{ex.Message}; treating {flags.Id} as its own pod");
            podId = flags.Id;
        }

        var config = LoadConfig(bundle, warnings);
        var paths = new StatePaths(config.Runtime.StateDir);
        var cleanup = new ContainerCleanup(mounter);
        cleanup.RemoveContainer(paths, flags.Namespace, podId, flags.Id, bundle);
        if (podId == flags.Id && flags.Address.Length == 0)
        {
            warnings.Add($"no -address given: cannot tell whether pod {podId}'s daemon still runs, so its state is left alone");
        }
        else if (podId == flags.Id)
        {
            // The pod's own container: once its daemon is gone, nobody else will remove the pod.
            var socket = ShimSocket.PathFor(config.Runtime.ShimSocketDir, flags.Address, flags.Namespace, podId);
            if (!ShimSocket.CanConnect(socket))
            {
                cleanup.RemovePod(paths, flags.Namespace, podId, bundle);
                ShimSocket.Remove(socket);
            }
        }
        warnings.AddRange(cleanup.Warnings);

        var response = new DeleteResponse
        {
            Pid = 0,
            ExitStatus = ExitStatus,
            ExitedAt = Timestamp.FromDateTimeOffset((time ?? TimeProvider.System).GetUtcNow()),
        };
        return (response.ToByteArray(), warnings);
    }

    /// <summary>The configuration `start` used (its path is in the bundle); defaults when that fails.</summary>
    private static StencilConfig LoadConfig(string bundle, List<string> warnings)
    {
        try
        {
            var recorded = BundleFiles.TryRead(Path.Combine(bundle, BundleFiles.ConfigPath));
            if (recorded is null)
                return ConfigLoader.Load(null).Config;
            return recorded.Length == 0 ? StencilConfig.Defaults : ConfigLoader.ReadFile(recorded);
        }
        catch (StencilException ex)
        {
            warnings.Add($"{ex.Message}; cleaning up with the default state_dir");
            return StencilConfig.Defaults;
        }
    }
}
