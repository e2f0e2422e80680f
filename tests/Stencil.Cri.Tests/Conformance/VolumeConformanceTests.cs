using Stencil.Cri.V1;
using Stencil.TestSupport;
using Xunit.Abstractions;
using static Stencil.Cri.Tests.Conformance.ConformanceRun;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>
/// The volume part of CRI conformance, as the kubelet passes volumes: every volume is a Mount of a host
/// path (hostPath, emptyDir's folder under the pod's volumes/kubernetes.io~empty-dir, the termination
/// log file). Two subclasses run it with runc and with stencil; both must see the same.
/// </summary>
public abstract class VolumeConformanceTests(CriContainerdFixture fixture, string handler, ITestOutputHelper output)
{
    private CriClient Client => fixture.Client;

    private Task<CriPod> RunPodAsync(string name) =>
        CriPod.RunAsync(Client, CriConfig.Sandbox($"{name}-{handler}", fixture.LogDirectory($"{name}-{handler}")), handler);

    /// <summary>
    /// One container with a read-write host path, a host path named through a symlink to a folder
    /// (containerd resolves it to the target), a read-only host path and a termination log file: it reads
    /// what the host put there, writes back, fails to write the read-only one, and exits.
    /// </summary>
    [Fact]
    public Task Host_path_symlinked_read_only_and_termination_log_mounts() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var dir = Directory.CreateTempSubdirectory("stencil-test-vol-").FullName;
        try
        {
            var data = Directory.CreateDirectory(Path.Combine(dir, "data")).FullName;
            var target = Directory.CreateDirectory(Path.Combine(dir, "target")).FullName;
            var link = Path.Combine(dir, "link");
            Directory.CreateSymbolicLink(link, target);
            var readOnly = Directory.CreateDirectory(Path.Combine(dir, "ro")).FullName;
            // The kubelet creates the termination log empty, under pods/UID/containers/NAME/.
            var terminationLog = Path.Combine(Directory.CreateDirectory(Path.Combine(dir, "containers", "vol")).FullName, "0f1e2d3c");
            await File.WriteAllTextAsync(terminationLog, "");
            await File.WriteAllTextAsync(Path.Combine(data, "from-host"), "host-data\n");
            await File.WriteAllTextAsync(Path.Combine(target, "from-host"), "host-link-data\n");
            await File.WriteAllTextAsync(Path.Combine(readOnly, "from-host"), "host-ro-data\n");

            await using var pod = await RunPodAsync("vol-host");
            var config = Shell("vol",
                "echo data_read=$(cat /data/from-host); echo from-container > /data/from-container; echo data_write=$?;"
                + "echo link_read=$(cat /link/from-host); echo via-link > /link/from-container; echo link_write=$?;"
                + "echo ro_read=$(cat /ro/from-host); echo ro_write=$( (echo x > /ro/from-container) 2>&1; echo status $?);"
                + "echo ro_mount=$(grep ' /ro ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1);"
                + "echo goodbye > /dev/termination-log; echo tl_write=$?");
            config.Mounts.Add(new Mount { HostPath = data, ContainerPath = "/data" });
            config.Mounts.Add(new Mount { HostPath = link, ContainerPath = "/link" });
            config.Mounts.Add(new Mount { HostPath = readOnly, ContainerPath = "/ro", Readonly = true });
            config.Mounts.Add(new Mount { HostPath = terminationLog, ContainerPath = "/dev/termination-log" });
            var (status, log) = await RunToExitAsync(Client, pod, config);
            output.WriteLine($"{handler}: exit {status.ExitCode}\n{log}");
            Assert.Equal(0, status.ExitCode);
            var seen = Parse(log);
            Assert.Equal("host-data", seen["data_read"]);
            Assert.Equal("0", seen["data_write"]);
            Assert.Equal("host-link-data", seen["link_read"]);
            Assert.Equal("0", seen["link_write"]);
            Assert.Equal("host-ro-data", seen["ro_read"]);
            Assert.Contains("Read-only file system", seen["ro_write"]);
            Assert.EndsWith("status 1", seen["ro_write"]);
            Assert.Equal("ro", seen["ro_mount"]);
            Assert.Equal("0", seen["tl_write"]);

            // The host sees the container's writes, the symlinked one in the link's target.
            Assert.Equal("from-container\n", await File.ReadAllTextAsync(Path.Combine(data, "from-container")));
            Assert.Equal("via-link\n", await File.ReadAllTextAsync(Path.Combine(target, "from-container")));
            Assert.False(File.Exists(Path.Combine(readOnly, "from-container")), "the read-only volume got a file");
            Assert.Equal("goodbye\n", await File.ReadAllTextAsync(terminationLog));
            // containerd reports the mounts with the host path as the kubelet gave it.
            var mounts = status.Mounts.ToDictionary(m => m.ContainerPath);
            Assert.True(mounts["/ro"].Readonly);
            Assert.False(mounts["/data"].Readonly);
            await pod.RemoveAsync();
            // The link is still a link and its target untouched by the unmount.
            Assert.Equal(target, new DirectoryInfo(link).LinkTarget);
            Assert.True(File.Exists(Path.Combine(target, "from-container")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    /// <summary>
    /// Two containers of one pod share emptyDir volumes (a plain folder, and a tmpfs for medium: Memory,
    /// as the kubelet mounts it on the host) and /dev/shm (containerd binds the sandbox's shm into every
    /// container): each reads what the other wrote; both are tmpfs in the container; the host sees the
    /// disk-backed emptyDir's files (and the memory-backed one's where <see cref="HostSeesMemoryBackedVolumes"/>).
    /// </summary>
    [Fact]
    public Task EmptyDir_on_disk_and_in_memory_and_dev_shm_are_shared_by_the_pods_containers() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var dir = Directory.CreateTempSubdirectory("stencil-test-vol-").FullName;
        var volumes = Path.Combine(dir, "pods", Guid.NewGuid().ToString(), "volumes", "kubernetes.io~empty-dir");
        var disk = Directory.CreateDirectory(Path.Combine(volumes, "cache")).FullName;
        var memory = Directory.CreateDirectory(Path.Combine(volumes, "scratch")).FullName;
        var mounted = false;
        try
        {
            await HostAsync("mount", "-t", "tmpfs", "-o", "size=4m,mode=0777", "tmpfs", memory);
            mounted = true;
            await using var pod = await RunPodAsync("vol-empty");

            var first = Shell("first",
                "echo first > /cache/first; echo first > /scratch/first; echo first > /dev/shm/first;"
                + "echo scratch_fs=$(grep ' /scratch ' /proc/mounts | cut -d' ' -f3); echo shm_fs=$(grep ' /dev/shm ' /proc/mounts | cut -d' ' -f3);"
                + "echo READY; exec sleep 3600");
            var second = Shell("second",
                "echo cache=$(cat /cache/first); echo scratch=$(cat /scratch/first); echo shm=$(cat /dev/shm/first);"
                + "echo second > /cache/second; echo second > /scratch/second; echo second > /dev/shm/second; echo written=$?");
            foreach (var c in new[] { first, second })
            {
                c.Mounts.Add(new Mount { HostPath = disk, ContainerPath = "/cache" });
                c.Mounts.Add(new Mount { HostPath = memory, ContainerPath = "/scratch" });
            }
            var firstId = await pod.RunContainerAsync(first);
            await WaitForLogLineAsync(pod, first, "READY");
            var (status, log) = await RunToExitAsync(Client, pod, second);
            output.WriteLine($"{handler}: first:\n{LogText(pod, first)}\nsecond (exit {status.ExitCode}):\n{log}");
            Assert.Equal(0, status.ExitCode);
            var seen = Parse(log);
            Assert.Equal("first", seen["cache"]);
            Assert.Equal("first", seen["scratch"]);
            Assert.Equal("first", seen["shm"]);
            Assert.Equal("0", seen["written"]);

            var back = await Client.ExecSyncAsync(firstId, ["sh", "-c", "cat /cache/second /scratch/second /dev/shm/second"], ExecTimeout);
            Assert.True(back.ExitCode == 0, $"{handler}: the first container reads the second's files: {back}");
            Assert.Equal("second\nsecond\nsecond\n", back.StdoutText);

            foreach (var folder in HostSeesMemoryBackedVolumes ? new[] { disk, memory } : [disk])
            {
                Assert.Equal("first\n", await File.ReadAllTextAsync(Path.Combine(folder, "first")));
                Assert.Equal("second\n", await File.ReadAllTextAsync(Path.Combine(folder, "second")));
            }
            if (!HostSeesMemoryBackedVolumes)
                Assert.Empty(Directory.GetFileSystemEntries(memory));
            var firstSeen = Parse(LogText(pod, first));
            Assert.Equal("tmpfs", firstSeen["scratch_fs"]);
            Assert.Equal("tmpfs", firstSeen["shm_fs"]);
            await pod.RemoveAsync();
        }
        finally
        {
            if (mounted)
                await HostAsync("umount", memory);
            Directory.Delete(dir, recursive: true);
        }
    });

    /// <summary>
    /// A subPath of a memory-backed emptyDir, as the kubelet makes it (a bind of the volume's folder at
    /// pods/UID/volume-subpaths/VOLUME/CONTAINER/N), and the whole volume in another container of the
    /// pod: the same files either way.
    /// </summary>
    [Fact]
    public Task A_subPath_of_a_memory_emptyDir_and_the_whole_volume_are_the_same_files() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var dir = Directory.CreateTempSubdirectory("stencil-test-subpath-").FullName;
        var podDir = Path.Combine(dir, "pods", Guid.NewGuid().ToString());
        var scratch = Directory.CreateDirectory(Path.Combine(podDir, "volumes", "kubernetes.io~empty-dir", "scratch")).FullName;
        var subpathMount = Directory.CreateDirectory(Path.Combine(podDir, "volume-subpaths", "scratch", "part", "0")).FullName;
        var mounts = new List<string>();
        try
        {
            await HostAsync("mount", "-t", "tmpfs", "-o", "size=4m,mode=0777", "tmpfs", scratch);
            mounts.Add(scratch);
            var folder = Directory.CreateDirectory(Path.Combine(scratch, "logs", "app")).FullName;
            await HostAsync("mount", "--bind", folder, subpathMount);
            mounts.Add(subpathMount);
            await using var pod = await RunPodAsync("vol-subpath");

            // The kubelet makes the subPath's folder when it prepares the container that uses it; the
            // other container makes it itself (with stencil the host's tmpfs is not the pod's memory).
            var whole = Shell("whole", "mkdir -p /scratch/logs/app; echo from-whole > /scratch/logs/app/first; echo READY; exec sleep 3600");
            whole.Mounts.Add(new Mount { HostPath = scratch, ContainerPath = "/scratch" });
            var part = Shell("part", "echo first=$(cat /logs/first); echo from-part > /logs/second; echo written=$?");
            part.Mounts.Add(new Mount { HostPath = subpathMount, ContainerPath = "/logs" });

            var wholeId = await pod.RunContainerAsync(whole);
            await WaitForLogLineAsync(pod, whole, "READY");
            var (status, log) = await RunToExitAsync(Client, pod, part);
            output.WriteLine($"{handler}: part exit {status.ExitCode}\n{log}");
            Assert.Equal(0, status.ExitCode);
            Assert.Equal("from-whole", Parse(log)["first"]);
            var back = await Client.ExecSyncAsync(wholeId, ["cat", "/scratch/logs/app/second"], ExecTimeout);
            Assert.True(back.ExitCode == 0, $"{handler}: the whole volume shows the subPath's file: {back}");
            Assert.Equal("from-part\n", back.StdoutText);
            await pod.RemoveAsync();
        }
        finally
        {
            foreach (var m in Enumerable.Reverse(mounts))
                await HostAsync("umount", m);
            Directory.Delete(dir, recursive: true);
        }
    });

    /// <summary>Does the host's tmpfs hold what containers write to a memory-backed emptyDir?</summary>
    protected virtual bool HostSeesMemoryBackedVolumes => true;

    /// <summary>
    /// POSIX shared memory as programs use it: one process maps a file in /dev/shm (and one in a
    /// memory-backed emptyDir) MAP_SHARED and writes into the mapping without msync; another process,
    /// in the other container of the pod, maps the same file and must read what was written.
    /// </summary>
    [Fact]
    public Task Shared_memory_mappings_in_dev_shm_and_a_memory_emptyDir_are_one_memory_for_the_pod() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var dir = Directory.CreateTempSubdirectory("stencil-test-shm-").FullName;
        var scratch = Directory.CreateDirectory(Path.Combine(dir, "pods", Guid.NewGuid().ToString(), "volumes", "kubernetes.io~empty-dir", "scratch")).FullName;
        var probeDir = Directory.CreateDirectory(Path.Combine(dir, "probe")).FullName;
        var mounted = false;
        try
        {
            var clang = Prerequisite.Executable("clang", "clang (apt-get install clang; scripts/deps.sh lists it)");
            await HostAsync(clang, "-static", "-O2", "-o", Path.Combine(probeDir, "shmprobe"), Path.Combine(AppContext.BaseDirectory, "Conformance", "shmprobe.c"));
            await HostAsync("mount", "-t", "tmpfs", "-o", "size=4m,mode=0777", "tmpfs", scratch);
            mounted = true;
            await using var pod = await RunPodAsync("vol-shm");

            var writer = Shell("writer",
                "/probe/shmprobe write /dev/shm/segment shm-from-writer & /probe/shmprobe write /scratch/segment scratch-from-writer & exec sleep 3600");
            var reader = Shell("reader", "exec sleep 3600");
            foreach (var c in new[] { writer, reader })
            {
                c.Mounts.Add(new Mount { HostPath = probeDir, ContainerPath = "/probe", Readonly = true });
                c.Mounts.Add(new Mount { HostPath = scratch, ContainerPath = "/scratch" });
            }
            await pod.RunContainerAsync(writer);
            var readerId = await pod.RunContainerAsync(reader);
            // Both writers say "mapped" once their text is in the mapping.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (LogText(pod, writer).Split('\n').Count(l => l == "mapped") < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, $"{handler}: the writers did not map their files:\n{LogText(pod, writer)}");
                await Task.Delay(100);
            }

            var read = await Client.ExecSyncAsync(readerId, ["sh", "-c", "/probe/shmprobe read /dev/shm/segment; /probe/shmprobe read /scratch/segment"], ExecTimeout);
            output.WriteLine($"{handler}: exit {read.ExitCode}\n{read.StdoutText}{read.StderrText}");
            Assert.Equal(0, read.ExitCode);
            Assert.Equal("read=shm-from-writer\nread=scratch-from-writer\n", read.StdoutText);
            await pod.RemoveAsync();
        }
        finally
        {
            if (mounted)
                await HostAsync("umount", scratch);
            Directory.Delete(dir, recursive: true);
        }
    });
}
