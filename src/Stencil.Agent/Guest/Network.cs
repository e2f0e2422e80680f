using System.Globalization;
using System.Text;
using Stencil.Agent.Logging;
using Stencil.Agent.Processes;
using Stencil.Protocols.Agent;

namespace Stencil.Agent.Guest;

/// <summary>
/// Interfaces and routes, applied with busybox `ip` (the guest has it; a netlink client in the agent
/// would be more code for the same few calls, and these run once per pod). Devices are found in
/// /sys/class/net, by MAC when the host gives one (the host knows the MAC it hot-plugged, not the
/// name the guest chose).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "one per agent, for the agent's whole life; never disposed")]
internal sealed class Network
{
    private static readonly TimeSpan s_deviceWait = TimeSpan.FromSeconds(5);
    private static readonly string[] s_ipPaths = ["/sbin/ip", "/bin/ip", "/usr/sbin/ip", "/usr/bin/ip"];

    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly string _ip;
    private readonly string _ipArgv0;
    private List<Route> _applied = [];

    internal Network()
    {
        var direct = s_ipPaths.FirstOrDefault(File.Exists);
        (_ip, _ipArgv0) = direct is not null ? (direct, "ip") : ("/bin/busybox", "ip");
    }

    internal async Task<Interface> UpdateInterfaceAsync(Interface wanted, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var device = await FindDeviceAsync(wanted, cancellationToken).ConfigureAwait(false);
            foreach (var command in IpCommands.ForInterface(device, wanted))
                await RunAsync(command, cancellationToken).ConfigureAwait(false);
            var name = wanted.Name.Length > 0 ? wanted.Name : device;
            return (await ListAsync(cancellationToken).ConfigureAwait(false)).First(i => i.Name == name);
        }
        finally
        {
            _lock.Release();
        }
    }

    internal async Task<IReadOnlyList<Route>> UpdateRoutesAsync(IReadOnlyList<Route> routes, CancellationToken cancellationToken)
    {
        var commands = IpCommands.ForRoutes(routes); // validates before anything changes
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var old in _applied)
            {
                try
                {
                    await RunAsync(IpCommands.DeleteRoute(old), cancellationToken).ConfigureAwait(false);
                }
                catch (StencilException ex)
                {
                    // Gone with its device or address: fine.
                    AgentLog.Debug($"deleting old route: {ex.Message}");
                }
            }
            _applied = [];
            foreach (var command in commands)
                await RunAsync(command, cancellationToken).ConfigureAwait(false);
            _applied = [.. routes];
            return _applied;
        }
        finally
        {
            _lock.Release();
        }
    }

    internal async Task<IReadOnlyList<Interface>> ListAsync(CancellationToken cancellationToken)
    {
        var addresses = IpCommands.ParseAddresses(await RunAsync(["-o", "addr", "show"], cancellationToken).ConfigureAwait(false));
        var result = new List<Interface>();
        foreach (var dir in Directory.EnumerateDirectories("/sys/class/net").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(dir);
            var iface = new Interface
            {
                Name = name,
                HwAddr = ReadText(Path.Combine(dir, "address")),
                Mtu = uint.TryParse(ReadText(Path.Combine(dir, "mtu")), NumberStyles.None, CultureInfo.InvariantCulture, out var mtu) ? mtu : 0,
                Up = (ParseHex(ReadText(Path.Combine(dir, "flags"))) & 1) != 0, // IFF_UP
            };
            if (addresses.TryGetValue(name, out var list))
                iface.Addresses.AddRange(list);
            result.Add(iface);
        }
        return result;
    }

    /// <summary>
    /// The device with the MAC (waiting a little: a NIC hot-plugged a moment ago may still be
    /// probing; woken by the kernel's link messages, see <see cref="LinkWatch"/>), or the one with the name.
    /// </summary>
    private static async Task<string> FindDeviceAsync(Interface wanted, CancellationToken cancellationToken)
    {
        if (wanted.HwAddr.Length > 0)
        {
            var deadline = DateTime.UtcNow + s_deviceWait;
            var delay = 10;
            using var watch = LinkWatch.TryOpen(); // before the first look, so no new device goes unnoticed
            while (true)
            {
                foreach (var dir in Directory.EnumerateDirectories("/sys/class/net"))
                {
                    if (string.Equals(ReadText(Path.Combine(dir, "address")), wanted.HwAddr, StringComparison.OrdinalIgnoreCase))
                        return Path.GetFileName(dir);
                }
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                    throw StencilException.NotFound($"no network device has MAC address \"{wanted.HwAddr}\" (waited {s_deviceWait.TotalSeconds:F0} s)");
                if (watch is not null)
                {
                    await watch.WaitAsync(left, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                // No netlink in this guest: retry with back-off.
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = Math.Min(delay * 2, 200);
            }
        }
        if (wanted.Name.Length == 0)
            throw StencilException.InvalidArgument("interface has neither hw_addr nor name");
        IpCommands.CheckDeviceName(wanted.Name, "interface.name");
        if (!Directory.Exists(Path.Combine("/sys/class/net", wanted.Name)))
            throw StencilException.NotFound($"no network device is named \"{wanted.Name}\"");
        return wanted.Name;
    }

    private async Task<string> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var (status, text, errors) = await CapturedRun.RunAsync(_ip, [_ipArgv0, .. args], cancellationToken).ConfigureAwait(false);
        var errorText = errors.Trim();
        if (status.ExitCode != 0)
            throw StencilException.Internal($"ip {string.Join(' ', args)} failed: {(errorText.Length > 0 ? errorText : $"exit code {status.ExitCode}")}");
        return text;
    }

    private static string ReadText(string file)
    {
        try
        {
            return File.ReadAllText(file).Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static ulong ParseHex(string text) =>
        ulong.TryParse(text.StartsWith("0x", StringComparison.Ordinal) ? text[2..] : text, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v) ? v : 0;
}
