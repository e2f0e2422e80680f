namespace Stencil.Oci.Tests;

internal static class SpecSamples
{
    // Shaped like the config.json `ctr run` writes, trimmed; "extraField" and "hooks" are not
    // modelled and must survive a round trip.
    public const string Ctr = """
    {
      "ociVersion": "1.0.2-dev",
      "process": {
        "user": { "uid": 0, "gid": 0, "additionalGids": [10] },
        "args": ["echo", "hello"],
        "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "cwd": "/",
        "capabilities": { "bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"] },
        "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
        "noNewPrivileges": true
      },
      "root": { "path": "rootfs" },
      "hostname": "web",
      "mounts": [
        { "destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"] },
        { "destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro"] }
      ],
      "hooks": { "prestart": [] },
      "annotations": { "io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.sandbox-id": "pod1" },
      "linux": {
        "resources": { "memory": { "limit": 268435456 }, "cpu": { "quota": 50000, "period": 100000 }, "devices": [{ "allow": false, "access": "rwm" }] },
        "cgroupsPath": "/default/c1",
        "namespaces": [{ "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "network" }],
        "maskedPaths": ["/proc/kcore"],
        "readonlyPaths": ["/proc/sys"],
        "devices": [{ "path": "/dev/vdb", "type": "b", "major": 254, "minor": 16 }]
      },
      "extraField": { "kept": true }
    }
    """;
}
