namespace Stencil.Hypervisor.Internal;

/// <summary>
/// Which of the VM's pcie-root-ports (rp0..rpN-1) hold a hot-plugged device. Lowest free first, so
/// device placement is predictable. Not thread-safe: QemuVm calls it under its operation lock.
/// </summary>
internal sealed class RootPortAllocator
{
    private readonly bool[] _used;

    public RootPortAllocator(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        _used = new bool[count];
    }

    public int Count => _used.Length;

    public IReadOnlyList<string> Free =>
        Enumerable.Range(0, _used.Length).Where(i => !_used[i]).Select(DeviceIds.RootPort).ToArray();

    public string Allocate(string vmName)
    {
        for (var i = 0; i < _used.Length; i++)
        {
            if (!_used[i])
            {
                _used[i] = true;
                return DeviceIds.RootPort(i);
            }
        }
        throw new StencilException(ErrorKind.ResourceExhausted, _used.Length == 0
            ? $"vm {vmName} has no pcie-root-ports for hotplug (hotplug_root_ports = 0)"
            : $"vm {vmName} has no free pcie-root-port: all {_used.Length} hold a device");
    }

    /// <summary>That very port (a restored clone gets its devices where the checkpointed one had them).</summary>
    public string Allocate(string vmName, string rootPort)
    {
        var index = IndexOf(rootPort);
        if (_used[index])
            throw StencilException.FailedPrecondition($"vm {vmName}: root port {rootPort} already holds a device");
        _used[index] = true;
        return rootPort;
    }

    public void Release(string rootPort)
    {
        var index = IndexOf(rootPort);
        if (!_used[index])
            throw new InvalidOperationException($"root port {rootPort} is not allocated");
        _used[index] = false;
    }

    private int IndexOf(string rootPort)
    {
        if (rootPort.StartsWith("rp", StringComparison.Ordinal)
            && int.TryParse(rootPort.AsSpan(2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
            && index < _used.Length)
        {
            return index;
        }
        throw new ArgumentException($"\"{rootPort}\" is not one of rp0..rp{_used.Length - 1}", nameof(rootPort));
    }
}
