namespace Stencil.Hypervisor;

/// <summary>
/// vCPUs at boot and the most the VM may ever have. Each possible vCPU is its own socket
/// (one core, one thread), so hot-adding a vCPU is one device_add of a whole socket.
/// </summary>
public sealed record CpuTopology(int Boot, int Max)
{
    public static CpuTopology Fixed(int count) => new(count, count);
}
