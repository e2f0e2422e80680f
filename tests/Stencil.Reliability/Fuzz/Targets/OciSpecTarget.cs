using Stencil.Oci;
using Stencil.Runtime.Pod;

namespace Stencil.Reliability.Fuzz.Targets;

/// <summary>
/// config.json as the shim's create path takes it: parsed (<see cref="SpecJson.ParseSpec"/>), validated,
/// sized (annotations and resources), and, when valid, turned into the guest's spec by
/// <see cref="GuestSpecBuilder"/>; an exec's process JSON too. Bad input must end in a StencilException.
/// </summary>
public sealed class OciSpecTarget : IFuzzTarget
{
    public string Name => "oci";

    public IReadOnlyList<byte[]> Seeds { get; } = Utf8Seeds.Of(
        """
        {
          "ociVersion": "1.1.0",
          "process": {
            "terminal": false,
            "user": { "uid": 1000, "gid": 1000, "additionalGids": [10, 20], "umask": 18 },
            "args": ["sh", "-c", "echo hi"],
            "env": ["PATH=/bin:/usr/bin", "TERM=xterm"],
            "cwd": "/work",
            "capabilities": { "bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"] },
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024 }],
            "noNewPrivileges": true,
            "oomScoreAdj": 100,
            "apparmorProfile": "",
            "consoleSize": { "height": 24, "width": 80 }
          },
          "root": { "path": "rootfs", "readonly": true },
          "hostname": "fuzz",
          "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"] },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            { "destination": "/etc/hosts", "type": "bind", "source": "/var/lib/hosts", "options": ["rbind", "rprivate", "ro"] },
            { "destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "rw"] }
          ],
          "hooks": {
            "prestart": [{ "path": "/usr/bin/hook", "args": ["hook", "pre"], "env": ["A=1"], "timeout": 5 }],
            "createContainer": [{ "path": "/bin/true" }],
            "poststop": [{ "path": "/bin/true", "timeout": 1 }]
          },
          "annotations": {
            "io.kubernetes.cri.container-type": "container",
            "io.kubernetes.cri.sandbox-id": "pod-1",
            "io.stencil.vcpus": "2",
            "io.stencil.memory_mib": "512"
          },
          "linux": {
            "resources": {
              "memory": { "limit": 268435456, "reservation": 134217728, "swap": 268435456 },
              "cpu": { "shares": 1024, "quota": 150000, "period": 100000, "cpus": "0-1" },
              "pids": { "limit": 64 },
              "devices": [
                { "allow": false, "access": "rwm" },
                { "allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm" },
                { "allow": true, "type": "b", "major": 8, "minor": 0, "access": "rw" }
              ]
            },
            "cgroupsPath": "/stencil/fuzz",
            "namespaces": [{ "type": "pid" }, { "type": "network", "path": "/var/run/netns/x" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }],
            "devices": [{ "path": "/dev/sda", "type": "b", "major": 8, "minor": 0, "fileMode": 432, "uid": 0, "gid": 6 }],
            "uidMappings": [{ "containerID": 0, "hostID": 100000, "size": 65536 }],
            "sysctl": { "net.ipv4.ip_forward": "1" },
            "maskedPaths": ["/proc/kcore", "/sys/firmware"],
            "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"],
            "seccomp": { "defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{ "names": ["read", "write"], "action": "SCMP_ACT_ALLOW" }] },
            "rootfsPropagation": "rslave"
          }
        }
        """,
        """{"ociVersion":"1.0.2-dev","process":{"user":{"uid":0,"gid":0},"args":["true"],"cwd":"/"},"root":{"path":"/run/rootfs"},"linux":{"namespaces":[{"type":"pid"}]}}""",
        """
        {"ociVersion":"1.0.2","process":{"terminal":true,"user":{"uid":0,"gid":0},"args":["/pause"],"cwd":"/"},"root":{"path":"rootfs"},
         "annotations":{"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.sandbox-id":"sb"},
         "linux":{"resources":{"devices":[{"allow":true,"access":"rwm"}],"cpu":{"quota":-1}},"namespaces":[{"type":"network"}]}}
        """,
        """{"terminal":false,"user":{"uid":0,"gid":0},"args":["sh","-c","exit 4"],"env":["A=B"],"cwd":"/tmp"}""");

    public IReadOnlyList<byte[]> Dictionary { get; } = Utf8Seeds.Of(
        "{", "}", "[", "]", ",", ":", "\"", "null", "true", "false", "\"\"", "{}", "[]", "\\u0000", "\\ud800", "\"/\"", "\"..\"", "\"../..\"",
        "\"ociVersion\"", "\"process\"", "\"root\"", "\"path\"", "\"mounts\"", "\"destination\"", "\"source\"", "\"type\"", "\"bind\"", "\"options\"",
        "\"linux\"", "\"resources\"", "\"memory\"", "\"limit\"", "\"cpu\"", "\"quota\"", "\"period\"", "\"devices\"", "\"major\"", "\"minor\"",
        "\"annotations\"", "\"io.stencil.vcpus\"", "\"io.stencil.memory_mib\"", "\"hooks\"", "\"args\"", "\"env\"", "\"cwd\"", "\"user\"", "\"uid\"",
        "\"namespaces\"", "\"rlimits\"", "\"consoleSize\"", "\"tmpfs\"", "\"rbind\"", "\"ro\"", "\"size=\"", "-1", "1e400", "18446744073709551616");

    public void Run(byte[] input, Random? random)
    {
        // The same bytes as a whole spec and as an exec's process (one of the seeds is a process).
        try
        {
            var process = SpecJson.ParseProcess(input, "exec");
            SpecValidator.ValidateProcess(process, "process", []);
            _ = SpecJson.Serialize(process);
        }
        catch (StencilException)
        {
        }

        var spec = SpecJson.ParseSpec(input, "config.json");
        var errors = SpecValidator.Validate(spec);
        _ = PodSizing.ContainerShare(spec);
        _ = CriAnnotations.IsSandbox(spec);
        _ = CriAnnotations.PodId(spec, "fuzz");
        if (spec.Linux is { } linux)
        {
            _ = DeviceRules.Of(linux);
            _ = DeviceRules.AllowsEveryDevice(linux);
            _ = DeviceRules.AllowsBlockWrite(linux, 8, 0);
        }
        _ = PodSizing.Base(1, 256, spec.Annotations);
        if (errors.Count == 0)
            _ = GuestSpecBuilder.Build(spec, "fuzz", isFile: path => path.EndsWith("hosts", StringComparison.Ordinal), findBlockDevice: (_, _) => "/dev/sda");
    }

    public bool IsExpected(Exception exception) => exception is StencilException;
}
