using System.Text;
using System.Text.Json.Nodes;

namespace Stencil.Agent.Tests.Vm;

/// <summary>OCI specs for the test containers, shaped like `runc spec`, with the rootfs at "rootfs" in the bundle.</summary>
public static class TestSpecs
{
    private static readonly string[] s_caps =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    public static JsonObject Process(string[] args, bool terminal = false) => new()
    {
        ["terminal"] = terminal,
        ["user"] = new JsonObject { ["uid"] = 0, ["gid"] = 0 },
        ["args"] = new JsonArray([.. args.Select(a => (JsonNode)a)]),
        ["env"] = new JsonArray("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"),
        ["cwd"] = "/",
        ["capabilities"] = new JsonObject
        {
            ["bounding"] = Caps(), ["effective"] = Caps(), ["permitted"] = Caps(),
        },
        ["noNewPrivileges"] = true,
    };

    public static byte[] ProcessJson(string[] args, bool terminal = false) => Encoding.UTF8.GetBytes(Process(args, terminal).ToJsonString());

    public static JsonObject Spec(string[] args, bool terminal = false, long? memoryLimit = null)
    {
        var linux = new JsonObject
        {
            ["namespaces"] = new JsonArray(Ns("pid"), Ns("ipc"), Ns("uts"), Ns("mount")),
            ["maskedPaths"] = new JsonArray("/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"),
            ["readonlyPaths"] = new JsonArray("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"),
        };
        if (memoryLimit is long limit)
            linux["resources"] = new JsonObject { ["memory"] = new JsonObject { ["limit"] = limit } };
        return new JsonObject
        {
            ["ociVersion"] = "1.0.2",
            ["process"] = Process(args, terminal),
            ["root"] = new JsonObject { ["path"] = "rootfs", ["readonly"] = false },
            ["hostname"] = "box",
            ["mounts"] = new JsonArray(
                Mount("/proc", "proc", "proc"),
                Mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
                Mount("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"),
                Mount("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
                Mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
                Mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
                Mount("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime", "ro")),
            ["linux"] = linux,
        };
    }

    public static byte[] SpecJson(string[] args, bool terminal = false, long? memoryLimit = null) =>
        Encoding.UTF8.GetBytes(Spec(args, terminal, memoryLimit).ToJsonString());

    private static JsonArray Caps() => new([.. s_caps.Select(c => (JsonNode)c)]);

    private static JsonObject Ns(string type) => new() { ["type"] = type };

    private static JsonObject Mount(string destination, string type, string source, params string[] options) => new()
    {
        ["destination"] = destination,
        ["type"] = type,
        ["source"] = source,
        ["options"] = new JsonArray([.. options.Select(o => (JsonNode)o)]),
    };
}
