namespace Stencil.Hypervisor;

public enum DeviceKind
{
    SerialPort,
    Disk,
    Network,
    Cpu,
    Memory,
}
