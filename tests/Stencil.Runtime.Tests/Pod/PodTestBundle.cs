namespace Stencil.Runtime.Tests.Pod;

/// <summary>What the pod runtime's unit tests share: a minimal bundle on disk, and waiting for a condition.</summary>
internal static class PodTestBundle
{
    /// <summary>Writes bundles/ID under <paramref name="dir"/>: a config.json running sh in its own namespaces, and an empty rootfs.</summary>
    public static string Write(string dir, string id)
    {
        var bundle = Path.Combine(dir, "bundles", id);
        Directory.CreateDirectory(Path.Combine(bundle, "rootfs"));
        File.WriteAllText(Path.Combine(bundle, "config.json"), """
            {
              "ociVersion": "1.2.1",
              "process": { "args": ["sh"], "cwd": "/", "user": { "uid": 0, "gid": 0 } },
              "root": { "path": "rootfs" },
              "linux": { "namespaces": [ { "type": "mount" }, { "type": "pid" }, { "type": "ipc" }, { "type": "network" } ] }
            }
            """);
        return bundle;
    }

    /// <summary>Polls <paramref name="condition"/> for up to 10 s.</summary>
    public static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(10);
        }
    }
}
