using System.Diagnostics;
using Stencil.Agent.Client;
using Stencil.Hypervisor;
using Stencil.TestSupport;
using Xunit.Abstractions;

namespace Stencil.Agent.Tests.Vm;

/// <summary>
/// The agent in a template clone: the template is saved while its host is connected; each clone
/// restores with a new host socket, and the agent must serve it (it sees the old connection end and
/// the new one begin). Then the clone fix-ups: reseed, clock.
/// </summary>
public sealed class CloneTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Clones_of_a_template_answer_on_their_own_sockets()
    {
        TestVm.CheckPrerequisites();
        var scratch = Directory.CreateTempSubdirectory("stencil-test-agent-clone-").FullName;
        var shm = Directory.CreateTempSubdirectory("stencil-test-agent-clone-mem-").FullName; // under /tmp: tmpfs or not, QEMU maps it
        try
        {
            var share = Path.Combine(scratch, "share");
            BusyboxRootfs.Create(Path.Combine(share, "rootfs"));
            var description = new VmDescription
            {
                Accelerator = (await new HostProbe().ProbeAsync()).PreferredAccelerator,
                Memory = MemoryLayout.Fixed(512),
                Kernel = new KernelBoot(GuestImage.Kernel, GuestImage.Initrd, GuestImage.KernelArgs()),
                SharedFolder = new SharedFolderDevice(TestVm.ShareTag),
                Rng = true,
                SerialConsole = true,
            };
            var memory = Path.Combine(shm, "memory");
            var state = Path.Combine(scratch, "state");

            // Template: boot, talk to the agent, save while still connected.
            var templateDir = Directory.CreateDirectory(Path.Combine(scratch, "template")).FullName;
            await using (var template = await QemuVm.LaunchAsync(description,
                VmInstance.ForTemplate(VmInstancePaths.InDirectory(templateDir), memory) with { SharedDirectory = share, Name = "template" }))
            {
                await using var agent = await AgentClient.WaitReadyAsync(template.Instance.Paths.AgentSocket, TimeSpan.FromSeconds(120));
                Assert.True(await agent.CheckAsync());
                await template.PauseAsync();
                await template.SaveAsync(state);
                await template.ShutdownAsync();
            }

            var outputs = new List<string>();
            for (var i = 0; i < 2; i++)
            {
                var dir = Directory.CreateDirectory(Path.Combine(scratch, $"clone{i}")).FullName;
                var clock = Stopwatch.StartNew();
                await using var clone = await QemuVm.LaunchAsync(description,
                    VmInstance.ForClone(VmInstancePaths.InDirectory(dir), memory) with { SharedDirectory = share, Name = $"clone{i}" });
                await clone.RestoreAsync(state);
                await clone.ResumeAsync();
                await using var agent = await AgentClient.WaitReadyAsync(clone.Instance.Paths.AgentSocket, TimeSpan.FromSeconds(60));
                output.WriteLine($"clone {i}: QEMU start to agent answering {clock.Elapsed.TotalMilliseconds:F0} ms");

                var seed = new byte[512];
                System.Security.Cryptography.RandomNumberGenerator.Fill(seed);
                await agent.ReseedRandomDevAsync(seed);
                var now = DateTimeOffset.UtcNow;
                await agent.SetGuestDateTimeAsync(now);

                await agent.CreateSandboxAsync(new SandboxConfig($"pod{i}", Shared: new SharedFolderConfig(TestVm.ShareTag)));
                await agent.CreateContainerAsync(new ContainerConfig("c", TestSpecs.SpecJson(["sh", "-c", "date -u +%s; head -c 16 /dev/urandom | od -An -tx1"]),
                    [StorageMount.Shared("rootfs", "rootfs")]));
                await agent.StartContainerAsync("c");
                using var stdout = new MemoryStream();
                await agent.CopyOutputAsync("c", null, StdioStream.Stdout, stdout);
                Assert.Equal(0, (await agent.WaitProcessAsync("c", null)).ExitCode);
                var lines = System.Text.Encoding.UTF8.GetString(stdout.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                Assert.InRange(long.Parse(lines[0]), now.ToUnixTimeSeconds() - 5, now.ToUnixTimeSeconds() + 120);
                outputs.Add(lines[1]);
                await agent.DestroySandboxAsync();
            }
            Assert.NotEqual(outputs[0], outputs[1]);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
            Directory.Delete(shm, recursive: true);
        }
    }
}
