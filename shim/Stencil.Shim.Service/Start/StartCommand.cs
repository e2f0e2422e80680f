using Microsoft.Win32.SafeHandles;
using Stencil.Runtime.Configuration;
using Stencil.Shim.Flags;

namespace Stencil.Shim.Start;

/// <summary>
/// `start`: find or start the pod's daemon and print its address. Runs with the bundle as working
/// directory; stdout carries only the address and stderr stays empty on success, because containerd
/// reads both, combined, as the address.
/// </summary>
internal static class StartCommand
{
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Returns the address to print ("unix:///run/containerd/s/...").</summary>
    public static string Run(ShimFlags flags, ReadOnlySpan<byte> runtimeOptions, string selfPath)
    {
        if (flags.Address.Length == 0)
            throw StencilException.InvalidArgument("-address (containerd's socket) is required for start");
        var bundle = flags.Bundle.Length > 0 ? flags.Bundle : Directory.GetCurrentDirectory();
        var loaded = ConfigLoader.Load(RuntimeOptions.ConfigPath(runtimeOptions));
        var podId = BundleFiles.PodIdOrOwn(bundle, flags.Id);
        var socketPath = ShimSocket.PathFor(loaded.Config.Runtime.ShimSocketDir, flags.Address, flags.Namespace, podId);
        var address = ShimSocket.Address(socketPath);

        var listener = ShimSocket.TryListen(socketPath);
        if (listener is null)
        {
            if (ShimSocket.CanConnect(socketPath))
            {
                // Another container of this pod: its daemon serves this one too.
                WriteBundleFiles(bundle, address, loaded.Source);
                return address;
            }
            ShimSocket.Remove(socketPath); // stale: its daemon died without cleaning up
            listener = ShimSocket.TryListen(socketPath)
                ?? throw StencilException.AlreadyExists($"shim socket {socketPath} for pod {podId} was taken by another start while this one replaced a stale file");
        }

        using (listener)
        {
            try
            {
                WriteBundleFiles(bundle, address, loaded.Source);
                StartDaemon(flags, bundle, socketPath, loaded.Source, selfPath, listener);
                return address;
            }
            catch
            {
                ShimSocket.Remove(socketPath);
                throw;
            }
        }
    }

    private static void WriteBundleFiles(string bundle, string address, string? configSource)
    {
        BundleFiles.WriteAtomically(Path.Combine(bundle, BundleFiles.ConfigPath), configSource ?? "");
        BundleFiles.WriteAtomically(Path.Combine(bundle, BundleFiles.Address), address);
    }

    private static void StartDaemon(ShimFlags flags, string bundle, string socketPath, string? configSource, string selfPath, SafeFileHandle listener)
    {
        var argv = new List<string>
        {
            selfPath,
            "-namespace", flags.Namespace,
            "-id", flags.Id,
            "-address", flags.Address,
            "-publish-binary", flags.PublishBinary,
            "-bundle", bundle,
            "-socket", socketPath,
            "-config", configSource ?? "",
        };
        if (flags.Debug)
            argv.Add("-debug");
        argv.Add("serve");

        var (pid, ready) = DaemonLauncher.Spawn(argv, listener);
        using (ready)
        {
            var failure = DaemonLauncher.WaitReady(ready, pid, s_readyTimeout);
            if (failure is not null)
                throw StencilException.Unavailable(failure);
        }
    }
}
