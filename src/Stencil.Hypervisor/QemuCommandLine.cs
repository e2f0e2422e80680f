using System.Globalization;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor;

/// <summary>
/// The QEMU argv for one instance of a description: a pure function, no I/O, no shell. A clone's argv
/// differs from its template's only where the instance differs (share=off, socket and file paths,
/// the 9p folder, the vmgenid GUID) plus "-incoming defer": everything QEMU's saved state depends on
/// comes from the description alone.
/// </summary>
public static class QemuCommandLine
{
    /// <summary>pcie.0 has 32 slots; the host bridge, the ICH9 functions and our own devices take some.</summary>
    public const int MaxHotplugRootPorts = 24;

    public const int MaxCpus = 255;

    public static IReadOnlyList<string> Build(VmDescription description, VmInstance instance)
    {
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(instance);
        Validate(description, instance);

        var args = new List<string>(64);
        void Add(string option, string value)
        {
            args.Add(option);
            args.Add(value);
        }

        // QEMU marks guest memory mergeable unless told otherwise.
        Add("-machine", description.Machine + (description.MemoryMerge ? ",mem-merge=on" : ",mem-merge=off"));
        if (!string.IsNullOrEmpty(description.Sandbox))
            Add("-sandbox", description.Sandbox);
        Add("-accel", description.Accelerator == Accelerator.Kvm ? "kvm"
            : description.TcgTranslationCacheMiB > 0 ? Invariant($"tcg,tb-size={description.TcgTranslationCacheMiB}") : "tcg");
        if (description.CpuModel is { } cpuModel)
            Add("-cpu", cpuModel);
        if (description.FirmwarePath is { } firmware)
            Add("-bios", firmware);
        // No default devices, no host config files, no display; a guest reboot ends the process
        // (a pod VM is never rebooted in place).
        args.AddRange(["-nodefaults", "-no-user-config", "-nographic", "-no-reboot"]);

        var cpus = description.Cpus;
        Add("-smp", Invariant($"{cpus.Boot},sockets={cpus.Max},cores=1,threads=1,maxcpus={cpus.Max}"));

        var memory = description.Memory;
        Add("-m", memory.HotplugEnabled
            ? Invariant($"{memory.SizeMiB}M,slots={memory.HotplugSlots},maxmem={memory.MaxMiB}M")
            : Invariant($"{memory.SizeMiB}M"));
        Add("-object", MemoryBackend(memory, instance));
        // Boot memory as a NUMA node's memdev is what lets it live in our own backend object.
        Add("-numa", "node,nodeid=0,memdev=" + DeviceIds.MemoryBackend);

        if (description.Kernel is { } kernel)
        {
            Add("-kernel", kernel.KernelPath);
            if (kernel.InitrdPath is { } initrd)
                Add("-initrd", initrd);
            if (kernel.CommandLine is { } append)
                Add("-append", append);
        }

        Add("-chardev", SocketChardev(DeviceIds.Qmp, instance.Paths.QmpSocket));
        Add("-mon", "chardev=" + DeviceIds.Qmp + ",mode=control");

        if (description.SerialConsole)
        {
            Add("-chardev", ConsoleChardev(instance.Paths));
            Add("-serial", "chardev:" + DeviceIds.Console);
        }

        // Root ports first, so every device after them sits in the same slot in every instance.
        for (var i = 0; i < description.HotplugRootPorts; i++)
            Add("-device", Invariant($"pcie-root-port,id={DeviceIds.RootPort(i)},bus={DeviceIds.PcieRoot},chassis={i + 1}"));

        Add("-device", "virtio-serial-pci,id=" + DeviceIds.VirtioSerial);
        Add("-chardev", SocketChardev(DeviceIds.AgentChardev, instance.Paths.AgentSocket));
        Add("-device", $"virtserialport,id={DeviceIds.AgentPort},bus={DeviceIds.VirtioSerialBus},chardev={DeviceIds.AgentChardev},name={description.AgentPortName}");

        if (description.SharedFolder is { } share)
        {
            Add("-fsdev", $"local,id={DeviceIds.Fsdev},path={QemuOptionText.Escape(instance.SharedDirectory!)},security_model=none");
            Add("-device", $"virtio-9p-pci,id={DeviceIds.SharedFolder},fsdev={DeviceIds.Fsdev},mount_tag={share.MountTag}");
        }

        if (description.Rng)
        {
            Add("-object", $"rng-random,id={DeviceIds.RngBackend},filename=/dev/urandom");
            Add("-device", $"virtio-rng-pci,id={DeviceIds.Rng},rng={DeviceIds.RngBackend}");
        }

        if (description.VmGenId)
        {
            var guid = instance.VmGenId is { } g ? g.ToString("D", CultureInfo.InvariantCulture) : "auto";
            Add("-device", $"vmgenid,id={DeviceIds.VmGenId},guid={guid}");
        }

        if (instance.Paths.PidFile is { } pidFile)
            Add("-pidfile", pidFile);

        if (instance.Role == VmRole.Clone)
            Add("-incoming", "defer");
        if (instance.LoadsDeviceState)
        {
            // A checkpoint's device state: loaded stopped, and its stream has no configuration section.
            args.Add("-S");
            Add("-global", "migration.send-configuration=off");
        }

        return args;
    }

    /// <summary>
    /// The description as text for a template fingerprint: the template argv with every
    /// instance-specific value replaced by a fixed placeholder. Two descriptions with the same text
    /// produce compatible templates and clones (given the same QEMU, kernel and initrd bytes).
    /// </summary>
    public static string FingerprintText(VmDescription description)
    {
        var placeholder = new VmInstance(VmRole.Template, new VmInstancePaths("/<qmp>", "/<agent>")
        {
            ConsoleLog = description.SerialConsole ? "/<console>" : null,
        })
        {
            MemoryFile = "/<memory>",
            SharedDirectory = description.SharedFolder is null ? null : "/<shared>",
        };
        // The seccomp filter, the capabilities, TCG's code buffer and KSM's marking are not part of the saved state: changing them keeps the template.
        return string.Join('\n', Build(description with { Sandbox = null, Capabilities = null, TcgTranslationCacheMiB = 0, MemoryMerge = false }, placeholder));
    }

    /// <summary>
    /// The settings of a VM's QEMU process that its saved state does not hold, so that
    /// <see cref="FingerprintText"/> leaves them out: the seccomp filter, the capabilities QEMU keeps, TCG's code
    /// buffer (under TCG only) and KSM's marking. A clone started by one configuration and handed to another (the
    /// factory daemon's pool) must have the receiver's: same template, same process settings. Pure.
    /// </summary>
    public static string ProcessSettingsText(VmDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        var tbSize = description.Accelerator == Accelerator.Kvm ? "none (kvm)"
            : description.TcgTranslationCacheMiB > 0 ? Invariant($"{description.TcgTranslationCacheMiB} MiB") : "qemu default";
        return $"seccomp sandbox: {(string.IsNullOrEmpty(description.Sandbox) ? "off" : description.Sandbox)}; " +
            $"capabilities: {description.Capabilities ?? "not bounded"}; tcg translation cache: {tbSize}; " +
            $"mem-merge: {(description.MemoryMerge ? "on" : "off")}";
    }

    /// <summary>The largest TCG code buffer accepted, in MiB (QEMU's own ceiling on x86-64 is 2 GiB).</summary>
    public const int MaxTcgTranslationCacheMiB = 2048;

    /// <summary>util-linux's setpriv, through which a QEMU with bounded capabilities is started.</summary>
    public const string SetprivPath = "/usr/bin/setpriv";

    /// <summary>
    /// The program that starts QEMU and its arguments: QEMU itself, or, with <see cref="VmDescription.Capabilities"/>,
    /// setpriv cutting the bounding set (and the inheritable and ambient sets) to those capabilities and
    /// then executing QEMU in place: the pid, the command line in /proc and the process are QEMU's.
    /// </summary>
    public static (string File, IReadOnlyList<string> Arguments) Launch(string qemuBinary, IReadOnlyList<string> commandLine, string? capabilities, string setpriv = SetprivPath)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        if (capabilities is null)
            return (qemuBinary, commandLine);
        var keep = CheckCapabilities(capabilities);
        var bounding = "-all" + string.Concat(keep.Select(c => ",+" + c));
        return (setpriv, ["--bounding-set=" + bounding, "--inh-caps=-all", "--ambient-caps=-all", "--", qemuBinary, .. commandLine]);
    }

    /// <summary>The names in a capabilities list: lower-case letters and '_', no "cap_" prefix, none twice.</summary>
    public static IReadOnlyList<string> CheckCapabilities(string capabilities)
    {
        var names = capabilities.Length == 0 ? [] : capabilities.Split(',');
        foreach (var name in names)
        {
            if (name.Length == 0 || name.StartsWith("cap_", StringComparison.Ordinal) || !name.All(c => char.IsAsciiLetterLower(c) || c == '_'))
                throw StencilException.InvalidArgument($"capabilities = \"{capabilities}\": \"{name}\" is not a capability name (lower case, without cap_: \"chown\")");
        }
        if (names.Distinct().Count() != names.Length)
            throw StencilException.InvalidArgument($"capabilities = \"{capabilities}\": a capability is named twice");
        return names;
    }

    private static string MemoryBackend(MemoryLayout memory, VmInstance instance)
    {
        var size = Invariant($"size={memory.SizeMiB}M");
        return instance.Role switch
        {
            VmRole.ColdBoot => $"memory-backend-ram,id={DeviceIds.MemoryBackend},{size}",
            // share=on: the template's guest writes reach the file clones will map.
            VmRole.Template => $"memory-backend-file,id={DeviceIds.MemoryBackend},{size},mem-path={QemuOptionText.Escape(instance.MemoryFile!)},share=on",
            // share=off: the clone maps the same file privately; its writes are copy-on-write.
            _ => $"memory-backend-file,id={DeviceIds.MemoryBackend},{size},mem-path={QemuOptionText.Escape(instance.MemoryFile!)},share=off",
        };
    }

    /// <summary>A listening unix socket that does not wait for a client (QEMU must start on its own).</summary>
    private static string SocketChardev(string id, string path) =>
        $"socket,id={id},path={QemuOptionText.Escape(path)},server=on,wait=off";

    private static string ConsoleChardev(VmInstancePaths paths)
    {
        if (paths.ConsoleLog is { } log)
            // append=on: the host may cut the file while QEMU writes it (Internal/ConsoleLogLimit).
            return $"file,id={DeviceIds.Console},path={QemuOptionText.Escape(log)},append=on";
        if (paths.ConsoleSocket is { } socket)
            return SocketChardev(DeviceIds.Console, socket);
        // The serial device must exist (it is in the saved state) even when nobody reads it.
        return "null,id=" + DeviceIds.Console;
    }

    private static void Validate(VmDescription d, VmInstance instance)
    {
        QemuOptionText.CheckName("machine", d.Machine);
        if (!Enum.IsDefined(d.Accelerator))
            throw StencilException.InvalidArgument($"accelerator = {(int)d.Accelerator}: not a known accelerator");
        if (d.CpuModel is not null)
            QemuOptionText.CheckName("cpu_model", d.CpuModel);
        if (d.FirmwarePath is not null)
            QemuOptionText.CheckPath("firmware_path", d.FirmwarePath);
        if (d.Capabilities is not null)
            CheckCapabilities(d.Capabilities);
        if (d.TcgTranslationCacheMiB is < 0 or > MaxTcgTranslationCacheMiB)
            throw StencilException.InvalidArgument($"tcg_translation_cache_mib = {d.TcgTranslationCacheMiB}: must be 0 (QEMU's default) or 1-{MaxTcgTranslationCacheMiB}");
        if (!string.IsNullOrEmpty(d.Sandbox) && !d.Sandbox.All(c => char.IsAsciiLetterLower(c) || c is ',' or '='))
            throw StencilException.InvalidArgument($"sandbox = \"{d.Sandbox}\": only QEMU -sandbox options (lower-case letters, '=' and ',')");

        ArgumentNullException.ThrowIfNull(d.Cpus);
        if (d.Cpus.Boot < 1)
            throw StencilException.InvalidArgument($"cpus.boot = {d.Cpus.Boot}: must be at least 1");
        if (d.Cpus.Max < d.Cpus.Boot || d.Cpus.Max > MaxCpus)
            throw StencilException.InvalidArgument($"cpus.max = {d.Cpus.Max}: must be between cpus.boot ({d.Cpus.Boot}) and {MaxCpus}");

        ArgumentNullException.ThrowIfNull(d.Memory);
        if (d.Memory.SizeMiB < 1)
            throw StencilException.InvalidArgument($"memory.size_mib = {d.Memory.SizeMiB}: must be positive");
        if (d.Memory.MaxMiB < d.Memory.SizeMiB)
            throw StencilException.InvalidArgument($"memory.max_mib = {d.Memory.MaxMiB}: must be at least memory.size_mib ({d.Memory.SizeMiB})");
        if (d.Memory.HotplugSlots < 0 || d.Memory.HotplugSlots > 256)
            throw StencilException.InvalidArgument($"memory.hotplug_slots = {d.Memory.HotplugSlots}: must be between 0 and 256");
        if (d.Memory.MaxMiB > d.Memory.SizeMiB && d.Memory.HotplugSlots == 0)
            throw StencilException.InvalidArgument($"memory.max_mib = {d.Memory.MaxMiB} exceeds memory.size_mib = {d.Memory.SizeMiB} but memory.hotplug_slots = 0");

        if (d.Kernel is { } kernel)
        {
            QemuOptionText.CheckPath("kernel.kernel_path", kernel.KernelPath);
            if (kernel.InitrdPath is not null)
                QemuOptionText.CheckPath("kernel.initrd_path", kernel.InitrdPath);
            if (kernel.CommandLine is { } append && append.AsSpan().IndexOfAny('\0', '\n') >= 0)
                throw StencilException.InvalidArgument("kernel.command_line contains a NUL or line break");
        }

        QemuOptionText.CheckName("agent_port_name", d.AgentPortName);
        if (d.HotplugRootPorts < 0 || d.HotplugRootPorts > MaxHotplugRootPorts)
            throw StencilException.InvalidArgument($"hotplug_root_ports = {d.HotplugRootPorts}: must be between 0 and {MaxHotplugRootPorts}");
        if (d.HotplugRootPorts > 0 && d.Machine != "q35" && !d.Machine.StartsWith("pc-q35", StringComparison.Ordinal))
            throw StencilException.InvalidArgument($"hotplug_root_ports = {d.HotplugRootPorts} needs machine q35 (PCIe), not \"{d.Machine}\"");

        if (d.SharedFolder is { } share)
        {
            QemuOptionText.CheckName("shared_folder.mount_tag", share.MountTag);
            QemuOptionText.CheckPath("shared_directory", instance.SharedDirectory);
        }
        else if (instance.SharedDirectory is not null)
        {
            throw StencilException.InvalidArgument($"shared_directory = \"{instance.SharedDirectory}\" but the description has no shared folder device");
        }

        if (instance.LoadsDeviceState && instance.Role != VmRole.Clone)
            throw StencilException.InvalidArgument("only a clone loads a checkpoint's device state");

        if (instance.VmGenId is not null && !d.VmGenId)
            throw StencilException.InvalidArgument($"vmgenid = {instance.VmGenId} but the description has no vmgenid device");

        ArgumentNullException.ThrowIfNull(instance.Paths);
        QemuOptionText.CheckSocketPath("qmp_socket", instance.Paths.QmpSocket);
        QemuOptionText.CheckSocketPath("agent_socket", instance.Paths.AgentSocket);
        if (instance.Paths.ConsoleLog is not null && instance.Paths.ConsoleSocket is not null)
            throw StencilException.InvalidArgument("console_log and console_socket are both set: choose one");
        if (instance.Paths.ConsoleLog is not null)
            QemuOptionText.CheckPath("console_log", instance.Paths.ConsoleLog);
        if (instance.Paths.ConsoleSocket is not null)
            QemuOptionText.CheckSocketPath("console_socket", instance.Paths.ConsoleSocket);
        if (instance.Paths.PidFile is not null)
            QemuOptionText.CheckPath("pid_file", instance.Paths.PidFile);

        switch (instance.Role)
        {
            case VmRole.ColdBoot when instance.MemoryFile is not null:
                throw StencilException.InvalidArgument($"memory_file = \"{instance.MemoryFile}\": a cold boot uses anonymous RAM, only a template or clone has a memory file");
            case VmRole.Template or VmRole.Clone:
                QemuOptionText.CheckPath("memory_file", instance.MemoryFile);
                break;
            case VmRole.ColdBoot:
                break;
            default:
                throw StencilException.InvalidArgument($"role = {(int)instance.Role}: not a known role");
        }
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
