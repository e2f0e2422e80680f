using System.Globalization;
using Tomlyn.Model;

namespace Stencil.Runtime.Configuration;

/// <summary>
/// Every key configuration.toml may hold, with its type and range. The loader accepts nothing else,
/// so a misspelt key fails loudly instead of silently falling back to a default.
/// </summary>
internal static class ConfigSchema
{
    public static IReadOnlyList<ConfigKey> Keys { get; } =
    [
        // [hypervisor]
        new("hypervisor", "path", (c, v, w) => c with { Hypervisor = c.Hypervisor with { Path = AbsolutePath(v, w, allowEmpty: false) } }, c => c.Hypervisor.Path),
        new("hypervisor", "kernel", (c, v, w) => c with { Hypervisor = c.Hypervisor with { Kernel = AbsolutePath(v, w, allowEmpty: false) } }, c => c.Hypervisor.Kernel),
        new("hypervisor", "initrd", (c, v, w) => c with { Hypervisor = c.Hypervisor with { Initrd = AbsolutePath(v, w, allowEmpty: false) } }, c => c.Hypervisor.Initrd),
        new("hypervisor", "kernel_params", (c, v, w) => c with { Hypervisor = c.Hypervisor with { KernelParams = String(v, w) } }, c => c.Hypervisor.KernelParams),
        new("hypervisor", "guest_address_randomization", (c, v, w) => c with { Hypervisor = c.Hypervisor with { GuestAddressRandomization = OneOf(v, w, "auto", "on", "off") } }, c => c.Hypervisor.GuestAddressRandomization),
        new("hypervisor", "seccompsandbox", (c, v, w) => c with { Hypervisor = c.Hypervisor with { SeccompSandbox = SandboxOptions(v, w) } }, c => c.Hypervisor.SeccompSandbox),
        new("hypervisor", "qemu_capabilities", (c, v, w) => c with { Hypervisor = c.Hypervisor with { QemuCapabilities = Capabilities(v, w) } }, c => c.Hypervisor.QemuCapabilities),
        new("hypervisor", "tcg_translation_cache_mib", (c, v, w) => c with { Hypervisor = c.Hypervisor with { TcgTranslationCacheMiB = Integer(v, w, 0, Hypervisor.QemuCommandLine.MaxTcgTranslationCacheMiB) } }, c => c.Hypervisor.TcgTranslationCacheMiB),
        new("hypervisor", "enable_mem_merge", (c, v, w) => c with { Hypervisor = c.Hypervisor with { EnableMemMerge = Boolean(v, w) } }, c => c.Hypervisor.EnableMemMerge),
        new("hypervisor", "machine_type", (c, v, w) => c with { Hypervisor = c.Hypervisor with { MachineType = NonEmpty(v, w) } }, c => c.Hypervisor.MachineType),
        new("hypervisor", "firmware", (c, v, w) => c with { Hypervisor = c.Hypervisor with { Firmware = AbsolutePath(v, w, allowEmpty: true) } }, c => c.Hypervisor.Firmware),
        new("hypervisor", "default_vcpus", (c, v, w) => c with { Hypervisor = c.Hypervisor with { DefaultVcpus = Integer(v, w, 1, 256) } }, c => c.Hypervisor.DefaultVcpus),
        new("hypervisor", "default_maxvcpus", (c, v, w) => c with { Hypervisor = c.Hypervisor with { DefaultMaxVcpus = Integer(v, w, 0, 256) } }, c => c.Hypervisor.DefaultMaxVcpus),
        new("hypervisor", "default_memory", (c, v, w) => c with { Hypervisor = c.Hypervisor with { DefaultMemory = Integer(v, w, 64, 1024 * 1024) } }, c => c.Hypervisor.DefaultMemory),
        new("hypervisor", "memory_slots", (c, v, w) => c with { Hypervisor = c.Hypervisor with { MemorySlots = Integer(v, w, 0, 256) } }, c => c.Hypervisor.MemorySlots),
        new("hypervisor", "pcie_root_ports", (c, v, w) => c with { Hypervisor = c.Hypervisor with { PcieRootPorts = Integer(v, w, 0, 32) } }, c => c.Hypervisor.PcieRootPorts),
        new("hypervisor", "enable_vmgenid", (c, v, w) => c with { Hypervisor = c.Hypervisor with { EnableVmgenid = Boolean(v, w) } }, c => c.Hypervisor.EnableVmgenid),
        new("hypervisor", "msize_9p", (c, v, w) => c with { Hypervisor = c.Hypervisor with { Msize9p = Integer(v, w, 4096, 1024 * 1024) } }, c => c.Hypervisor.Msize9p),
        new("hypervisor", "shared_fs", (c, v, w) => c with { Hypervisor = c.Hypervisor with { SharedFs = OneOf(v, w, HypervisorConfig.SharedFsVirtio9p, HypervisorConfig.SharedFsNone) } }, c => c.Hypervisor.SharedFs),
        new("hypervisor", "rootfs_image_mib", (c, v, w) => c with { Hypervisor = c.Hypervisor with { RootfsImageMiB = Integer(v, w, 64, 1024 * 1024) } }, c => c.Hypervisor.RootfsImageMiB),
        new("hypervisor", "enable_debug", (c, v, w) => c with { Hypervisor = c.Hypervisor with { EnableDebug = Boolean(v, w) } }, c => c.Hypervisor.EnableDebug),

        // [factory]
        new("factory", "enable_template", (c, v, w) => c with { Factory = c.Factory with { EnableTemplate = Boolean(v, w) } }, c => c.Factory.EnableTemplate),
        new("factory", "template_path", (c, v, w) => c with { Factory = c.Factory with { TemplatePath = AbsolutePath(v, w, allowEmpty: false) } }, c => c.Factory.TemplatePath),
        new("factory", "pool_size", (c, v, w) => c with { Factory = c.Factory with { PoolSize = Integer(v, w, 0, 1024) } }, c => c.Factory.PoolSize),
        new("factory", "pool_refill_delay_ms", (c, v, w) => c with { Factory = c.Factory with { PoolRefillDelayMs = Integer(v, w, 0, 60000) } }, c => c.Factory.PoolRefillDelayMs),
        new("factory", "daemon_socket", (c, v, w) => c with { Factory = c.Factory with { DaemonSocket = AbsolutePath(v, w, allowEmpty: false, maxLength: 100) } }, c => c.Factory.DaemonSocket),
        new("factory", "template_build_timeout", (c, v, w) => c with { Factory = c.Factory with { TemplateBuildTimeout = Integer(v, w, 1, 3600) } }, c => c.Factory.TemplateBuildTimeout),

        // [agent]
        new("agent", "dial_timeout", (c, v, w) => c with { Agent = c.Agent with { DialTimeout = Integer(v, w, 1, 3600) } }, c => c.Agent.DialTimeout),
        new("agent", "enable_debug", (c, v, w) => c with { Agent = c.Agent with { EnableDebug = Boolean(v, w) } }, c => c.Agent.EnableDebug),

        // [runtime]
        new("runtime", "state_dir", (c, v, w) => c with { Runtime = c.Runtime with { StateDir = AbsolutePath(v, w, allowEmpty: false) } }, c => c.Runtime.StateDir),
        new("runtime", "shim_socket_dir", (c, v, w) => c with { Runtime = c.Runtime with { ShimSocketDir = AbsolutePath(v, w, allowEmpty: false, maxLength: 42) } }, c => c.Runtime.ShimSocketDir),
        new("runtime", "checkpoint_memory", (c, v, w) => c with { Runtime = c.Runtime with { CheckpointMemory = OneOf(v, w, "diff", "full") } }, c => c.Runtime.CheckpointMemory),
        new("runtime", "enable_debug", (c, v, w) => c with { Runtime = c.Runtime with { EnableDebug = Boolean(v, w) } }, c => c.Runtime.EnableDebug),
        new("runtime", "sandbox_cgroup_only", (c, v, w) => c with { Runtime = c.Runtime with { SandboxCgroupOnly = Boolean(v, w) } }, c => c.Runtime.SandboxCgroupOnly),
        new("runtime", "sandbox_cgroup_memory_overhead_mib", (c, v, w) => c with { Runtime = c.Runtime with { SandboxCgroupMemoryOverheadMiB = Integer(v, w, 0, 1048576) } }, c => c.Runtime.SandboxCgroupMemoryOverheadMiB),
        new("runtime", "internetworking_model", (c, v, w) => c with { Runtime = c.Runtime with { InternetworkingModel = OneOf(v, w, "tcfilter", "none") } }, c => c.Runtime.InternetworkingModel),
        new("runtime", "sandbox_container", (c, v, w) => c with { Runtime = c.Runtime with { SandboxContainer = OneOf(v, w, "holder", "runtime") } }, c => c.Runtime.SandboxContainer),
    ];

    public static IReadOnlyList<string> Sections { get; } = Keys.Select(k => k.Section).Distinct().ToArray();

    private static string String(object value, string where) =>
        value as string ?? throw Bad(where, "expected a string");

    private static string NonEmpty(object value, string where)
    {
        var s = String(value, where);
        return s.Length > 0 ? s : throw Bad(where, "must not be empty");
    }

    private static string AbsolutePath(object value, string where, bool allowEmpty, int maxLength = 4096)
    {
        var s = String(value, where);
        if (s.Length == 0)
            return allowEmpty ? s : throw Bad(where, "must not be empty");
        if (!s.StartsWith('/'))
            throw Bad(where, "must be an absolute path");
        if (s.Length > maxLength)
            throw Bad(where, $"must be at most {maxLength} bytes long (a socket path, this folder plus 65 bytes, must fit in 107)");
        return s;
    }

    private static int Integer(object value, string where, int min, int max)
    {
        if (value is not long n)
            throw Bad(where, "expected an integer");
        if (n < min || n > max)
            throw Bad(where, $"must be between {min} and {max}");
        return (int)n;
    }

    private static bool Boolean(object value, string where) =>
        value as bool? ?? throw Bad(where, "expected true or false");

    private static string OneOf(object value, string where, params string[] allowed)
    {
        var s = String(value, where);
        return Array.IndexOf(allowed, s) >= 0 ? s : throw Bad(where, $"must be one of {string.Join(", ", allowed.Select(a => $"\"{a}\""))}");
    }

    /// <summary>QEMU -sandbox options: "" (none) or "on"/"off" then name=value pairs of lower-case letters.</summary>
    private static string SandboxOptions(object value, string where)
    {
        var s = String(value, where);
        if (s.Length == 0)
            return s;
        var parts = s.Split(',');
        return parts[0] is "on" or "off" && parts.Skip(1).All(p => p.Split('=') is [{ Length: > 0 } k, { Length: > 0 } v] && k.All(char.IsAsciiLetterLower) && v.All(char.IsAsciiLetterLower))
            ? s
            : throw Bad(where, "must be \"\" or QEMU -sandbox options: on or off, then name=value pairs (e.g. \"on,spawn=deny\")");
    }

    /// <summary>"all", or capability names as QEMU's launcher takes them (lower case, no cap_ prefix, comma-separated).</summary>
    private static string Capabilities(object value, string where)
    {
        var s = String(value, where);
        if (s == "all")
            return s;
        try
        {
            Hypervisor.QemuCommandLine.CheckCapabilities(s);
            return s;
        }
        catch (StencilException ex)
        {
            throw Bad(where, $"must be \"all\" or capability names such as \"chown,fowner\" ({ex.Message})");
        }
    }

    private static StencilException Bad(string where, string reason) => StencilException.InvalidArgument($"{where}: {reason}");

    /// <summary>A TOML value as it would be written in the file, for error messages.</summary>
    public static string Format(object? value) => value switch
    {
        null => "(nothing)",
        string s => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
        bool b => b ? "true" : "false",
        long n => n.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        TomlArray a => "[" + string.Join(", ", a.Select(Format)) + "]",
        TomlTable => "{...}",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
