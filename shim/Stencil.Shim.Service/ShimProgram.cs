using Stencil.Containerd;
using Stencil.Interop;
using Stencil.Runtime;
using Stencil.Runtime.Storage;
using Stencil.Shim.Delete;
using Stencil.Shim.Flags;
using Stencil.Shim.Serve;
using Stencil.Shim.Start;

namespace Stencil.Shim;

/// <summary>
/// containerd-shim-stencil-v2's main: parse the flags containerd passes, then `start`, `delete` or
/// (spawned by start) `serve`. Failures print one line on stderr and exit 1; stdout carries only
/// what containerd reads (the address after start, a DeleteResponse after delete).
/// </summary>
public static class ShimProgram
{
    // containerd answers its version service in milliseconds; a containerd too busy to answer within
    // this gets task API 2, which every release serves.
    private static readonly TimeSpan s_containerdVersionTimeout = TimeSpan.FromSeconds(1);

    public static async Task<int> RunAsync(string[] args, IPodRuntimeFactory factory)
    {
        ShimFlags flags;
        try
        {
            flags = FlagParser.Parse(args);
        }
        catch (StencilException ex)
        {
            Console.Error.WriteLine($"containerd-shim-stencil-v2: {ex.Message}");
            Console.Error.WriteLine(FlagParser.Usage);
            return 1;
        }

        try
        {
            switch (flags.Action)
            {
                case ShimAction.Help:
                    Console.Error.WriteLine(FlagParser.Usage);
                    return 0;
                case ShimAction.Version:
                    Console.Out.WriteLine($"containerd-shim-stencil-v2:\n  Version: {TaskService.Version}\n  Runtime: io.containerd.stencil.v2\n");
                    return 0;
                case ShimAction.Start:
                    // Asked while the daemon starts: which task API to announce (containerd 1.7+ only).
                    var maxShimVersion = Environment.GetEnvironmentVariable(BootstrapAnswer.MaxShimVersionVariable);
                    var containerd = BootstrapAnswer.ReadsJson(maxShimVersion)
                        ? ContainerdVersionClient.QueryAsync(Environment.GetEnvironmentVariable("GRPC_ADDRESS") ?? flags.Address, s_containerdVersionTimeout)
                        : null;
                    var address = StartCommand.Run(flags, ReadRuntimeOptions(), Environment.ProcessPath ?? "/proc/self/exe");
                    var version = containerd is null ? null : (await containerd.ConfigureAwait(false)).Version;
                    Console.Out.Write(BootstrapAnswer.Format(address, maxShimVersion, ContainerdSupport.TaskApiVersion(version)));
                    Console.Out.Flush();
                    return 0;
                case ShimAction.Delete:
                    var (response, warnings) = DeleteCommand.Run(flags, new LinuxMounter());
                    foreach (var warning in warnings)
                        Console.Error.WriteLine(warning);
                    using (var stdout = Console.OpenStandardOutput())
                        stdout.Write(response);
                    return 0;
                default:
                    return await ShimDaemon.RunAsync(flags, factory).ConfigureAwait(false);
            }
        }
        catch (StencilException ex)
        {
            Console.Error.WriteLine($"containerd-shim-stencil-v2 {flags.Action.ToString().ToLowerInvariant()} {flags.Id}: {ex.Message}");
            return 1;
        }
    }

    /// <summary>
    /// containerd writes the runtime options to stdin (or gives /dev/null); a person running `start`
    /// by hand has a terminal there, which is never read.
    /// </summary>
    private static byte[] ReadRuntimeOptions()
    {
        if (Libc.IsATty(0))
            return [];
        using var stdin = Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        return buffer.ToArray();
    }
}
