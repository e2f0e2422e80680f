using System.Globalization;
using System.Text.Json;
using Stencil.Oci;
using Stencil.Oci.Model;

namespace Stencil.Agent.Containers;

/// <summary>
/// A privileged container is privileged inside the VM: it gets the guest's device nodes and may use
/// every device, as runc gives a privileged container the host's (containerd lists those in
/// linux.devices and allows every device; for a VM runtime it is told not to, with
/// privileged_without_host_devices, and then does neither). What marks a privileged spec: that rule
/// allowing every device, or (without it) CAP_SYS_ADMIN in the bounding set with no masked and no
/// read-only paths — kubelet masks /proc paths for every container that is not privileged. The list
/// comes from sysfs: each /sys/dev/{char,block}/MAJ:MIN/uevent names its node (DEVNAME, under /dev).
/// </summary>
internal static class PrivilegedDevices
{
    /// <summary>Nodes the OCI runtime sets up itself (or that are the guest's own console).</summary>
    private static readonly HashSet<string> s_skipped = ["console", "ptmx", "tty", "null", "zero", "full", "random", "urandom"];

    /// <summary>Adds the guest's devices to a privileged spec's linux.devices (entries already there win).
    /// Returns how many were added.</summary>
    internal static int Apply(Spec spec, Func<IReadOnlyList<Device>> guestDevices)
    {
        if (spec.Linux is not { } linux || !IsPrivileged(spec))
            return 0;
        if (!DeviceRules.AllowsEveryDevice(linux))
        {
            linux.Resources ??= new Resources();
            linux.Resources.Extra ??= [];
            var rules = linux.Resources.Extra.TryGetValue("devices", out var existing) && existing.ValueKind == JsonValueKind.Array
                ? existing.EnumerateArray().Select(r => r.GetRawText()).ToList()
                : [];
            rules.Add("""{"allow":true,"access":"rwm"}""");
            linux.Resources.Extra["devices"] = JsonDocument.Parse($"[{string.Join(',', rules)}]").RootElement.Clone();
        }
        linux.Devices ??= [];
        var present = linux.Devices.Select(d => d.Path).ToHashSet(StringComparer.Ordinal);
        var added = 0;
        foreach (var device in guestDevices())
        {
            if (present.Add(device.Path))
            {
                linux.Devices.Add(device);
                added++;
            }
        }
        return added;
    }

    /// <summary>Is this a privileged container's spec (see the class summary)?</summary>
    internal static bool IsPrivileged(Spec spec)
    {
        if (spec.Linux is not { } linux)
            return false;
        if (DeviceRules.AllowsEveryDevice(linux))
            return true;
        return spec.Process?.Capabilities?.Bounding?.Contains("CAP_SYS_ADMIN") == true
            && (linux.MaskedPaths?.Count ?? 0) == 0 && (linux.ReadonlyPaths?.Count ?? 0) == 0;
    }

    /// <summary>
    /// A device entry from a uevent file's text, or null when it names no node, a skipped one, or one
    /// under pts/. <paramref name="mode"/> gives a node's permission bits (from /dev), null when it is missing.
    /// </summary>
    internal static Device? FromUevent(string uevent, string type, Func<string, uint?> mode)
    {
        var fields = uevent.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!fields.TryGetValue("DEVNAME", out var name) || name.Length == 0 || name.Split('/').Contains("..")
            || s_skipped.Contains(name) || name.StartsWith("pts/", StringComparison.Ordinal)
            || !long.TryParse(fields.GetValueOrDefault("MAJOR"), NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !long.TryParse(fields.GetValueOrDefault("MINOR"), NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
            return null;
        var path = "/dev/" + name;
        if (mode(path) is not { } fileMode)
            return null;
        return new Device { Type = type, Path = path, Major = major, Minor = minor, FileMode = fileMode, Uid = 0, Gid = 0 };
    }

    /// <summary>
    /// Device entries from a modules.devname file's text ("MODULE NAME cMAJ:MIN" per line): the nodes
    /// of modules the kernel loads on demand, which /init makes at boot and sysfs does not list until
    /// the module is loaded. Opening one in the container loads its module. Lines naming no node under
    /// /dev (per <paramref name="mode"/>) or not in that form are skipped.
    /// </summary>
    internal static IEnumerable<Device> FromModulesDevname(string text, Func<string, uint?> mode)
    {
        foreach (var line in text.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 3 || fields[0].StartsWith('#') || fields[1].Split('/').Contains("..")
                || fields[2].Length < 4 || fields[2][0] is not ('c' or 'b'))
                continue;
            var numbers = fields[2][1..].Split(':');
            if (numbers.Length != 2
                || !long.TryParse(numbers[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major)
                || !long.TryParse(numbers[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor))
                continue;
            var path = "/dev/" + fields[1];
            if (mode(path) is { } fileMode)
                yield return new Device { Type = fields[2][..1], Path = path, Major = major, Minor = minor, FileMode = fileMode, Uid = 0, Gid = 0 };
        }
    }

    /// <summary>The guest's character and block devices, from sysfs and /dev, and the nodes of modules
    /// loaded on demand (modules.devname) that are not loaded yet.</summary>
    internal static IReadOnlyList<Device> FromSysfs()
    {
        var devices = new List<Device>();
        foreach (var (folder, type) in new[] { ("/sys/dev/char", "c"), ("/sys/dev/block", "b") })
        {
            if (!Directory.Exists(folder))
                continue;
            foreach (var entry in Directory.EnumerateFileSystemEntries(folder).Order(StringComparer.Ordinal))
            {
                try
                {
                    if (FromUevent(File.ReadAllText(Path.Combine(entry, "uevent")), type, NodeMode) is { } device)
                        devices.Add(device);
                }
                catch (IOException)
                {
                    // a device that went away while we looked
                }
            }
        }
        if (ReadKernelRelease() is { } release && $"/lib/modules/{release}/modules.devname" is var devname && File.Exists(devname))
        {
            var listed = devices.Select(d => d.Path).ToHashSet(StringComparer.Ordinal);
            devices.AddRange(FromModulesDevname(File.ReadAllText(devname), NodeMode).Where(d => listed.Add(d.Path)));
        }
        return devices;
    }

    private static string? ReadKernelRelease()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim() is { Length: > 0 } r && !r.Contains('/') ? r : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static uint? NodeMode(string path) =>
        OperatingSystem.IsLinux() && File.Exists(path) ? (uint)File.GetUnixFileMode(path) & 0x1FF : null;
}
