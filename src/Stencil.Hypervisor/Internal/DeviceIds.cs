namespace Stencil.Hypervisor.Internal;

/// <summary>
/// QEMU ids the command line creates and the hotplug code refers to. Fixed names, so a clone's
/// devices match the template's saved state section by section.
/// </summary>
internal static class DeviceIds
{
    public const string MemoryBackend = "mem0";
    public const string Qmp = "qmp0";
    public const string Console = "console0";
    public const string VirtioSerial = "vserial0";
    /// <summary>The bus a virtio-serial controller exposes for its ports.</summary>
    public const string VirtioSerialBus = VirtioSerial + ".0";
    public const string AgentChardev = "agent0";
    public const string AgentPort = "agentport0";
    public const string Fsdev = "fsdev0";
    public const string SharedFolder = "fs0";
    public const string RngBackend = "rng0";
    public const string Rng = "rngdev0";
    public const string VmGenId = "vmgenid0";
    public const string PcieRoot = "pcie.0";

    public static string RootPort(int index) => "rp" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
