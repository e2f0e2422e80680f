namespace Stencil.Hypervisor.Tests;

/// <summary>The exact argv for each role, and the rule that a clone differs from its template only per instance.</summary>
[Trait("Category", "Unit")]
public sealed class CommandLineGoldenTests
{
    private static readonly VmDescription s_description = new()
    {
        Accelerator = Accelerator.Tcg,
        Cpus = new CpuTopology(1, 4),
        Memory = new MemoryLayout(256, 1024, 4),
        Kernel = new KernelBoot("/guest/vmlinux", "/guest/initrd", "console=ttyS0 panic=-1 quiet"),
        HotplugRootPorts = 2,
        SharedFolder = new SharedFolderDevice("stencil"),
        VmGenId = true,
        Rng = true,
        SerialConsole = true,
    };

    private static readonly Guid s_cloneGuid = Guid.Parse("0b4b7b6e-9c1e-4d2a-8f3a-5e6f7a8b9c0d");

    private static VmInstance TemplateInstance() =>
        VmInstance.ForTemplate(VmInstancePaths.InDirectory("/run/stencil/tpl"), "/dev/shm/stencil/tpl/memory")
            with { SharedDirectory = "/run/stencil/tpl/share" };

    private static VmInstance CloneInstance() =>
        VmInstance.ForClone(VmInstancePaths.InDirectory("/run/stencil/c1"), "/dev/shm/stencil/tpl/memory")
            with { SharedDirectory = "/pods/p1/rootfs", VmGenId = s_cloneGuid };

    [Fact]
    public void Cold_boot()
    {
        var instance = VmInstance.ForColdBoot(VmInstancePaths.InDirectory("/run/stencil/vm1")) with { SharedDirectory = "/pods/p1/rootfs" };
        string[] expected =
        [
            "-machine", "q35,mem-merge=off",
            "-accel", "tcg",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-smp", "1,sockets=4,cores=1,threads=1,maxcpus=4",
            "-m", "256M,slots=4,maxmem=1024M",
            "-object", "memory-backend-ram,id=mem0,size=256M",
            "-numa", "node,nodeid=0,memdev=mem0",
            "-kernel", "/guest/vmlinux",
            "-initrd", "/guest/initrd",
            "-append", "console=ttyS0 panic=-1 quiet",
            "-chardev", "socket,id=qmp0,path=/run/stencil/vm1/qmp.sock,server=on,wait=off",
            "-mon", "chardev=qmp0,mode=control",
            "-chardev", "file,id=console0,path=/run/stencil/vm1/console.log,append=on",
            "-serial", "chardev:console0",
            "-device", "pcie-root-port,id=rp0,bus=pcie.0,chassis=1",
            "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=2",
            "-device", "virtio-serial-pci,id=vserial0",
            "-chardev", "socket,id=agent0,path=/run/stencil/vm1/agent.sock,server=on,wait=off",
            "-device", "virtserialport,id=agentport0,bus=vserial0.0,chardev=agent0,name=stencil.agent",
            "-fsdev", "local,id=fsdev0,path=/pods/p1/rootfs,security_model=none",
            "-device", "virtio-9p-pci,id=fs0,fsdev=fsdev0,mount_tag=stencil",
            "-object", "rng-random,id=rng0,filename=/dev/urandom",
            "-device", "virtio-rng-pci,id=rngdev0,rng=rng0",
            "-device", "vmgenid,id=vmgenid0,guid=auto",
            "-pidfile", "/run/stencil/vm1/qemu.pid",
        ];
        Assert.Equal(expected, QemuCommandLine.Build(s_description, instance));
    }

    [Fact]
    public void Template()
    {
        string[] expected =
        [
            "-machine", "q35,mem-merge=off",
            "-accel", "tcg",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-smp", "1,sockets=4,cores=1,threads=1,maxcpus=4",
            "-m", "256M,slots=4,maxmem=1024M",
            "-object", "memory-backend-file,id=mem0,size=256M,mem-path=/dev/shm/stencil/tpl/memory,share=on",
            "-numa", "node,nodeid=0,memdev=mem0",
            "-kernel", "/guest/vmlinux",
            "-initrd", "/guest/initrd",
            "-append", "console=ttyS0 panic=-1 quiet",
            "-chardev", "socket,id=qmp0,path=/run/stencil/tpl/qmp.sock,server=on,wait=off",
            "-mon", "chardev=qmp0,mode=control",
            "-chardev", "file,id=console0,path=/run/stencil/tpl/console.log,append=on",
            "-serial", "chardev:console0",
            "-device", "pcie-root-port,id=rp0,bus=pcie.0,chassis=1",
            "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=2",
            "-device", "virtio-serial-pci,id=vserial0",
            "-chardev", "socket,id=agent0,path=/run/stencil/tpl/agent.sock,server=on,wait=off",
            "-device", "virtserialport,id=agentport0,bus=vserial0.0,chardev=agent0,name=stencil.agent",
            "-fsdev", "local,id=fsdev0,path=/run/stencil/tpl/share,security_model=none",
            "-device", "virtio-9p-pci,id=fs0,fsdev=fsdev0,mount_tag=stencil",
            "-object", "rng-random,id=rng0,filename=/dev/urandom",
            "-device", "virtio-rng-pci,id=rngdev0,rng=rng0",
            "-device", "vmgenid,id=vmgenid0,guid=auto",
            "-pidfile", "/run/stencil/tpl/qemu.pid",
        ];
        Assert.Equal(expected, QemuCommandLine.Build(s_description, TemplateInstance()));
    }

    [Fact]
    public void Clone()
    {
        string[] expected =
        [
            "-machine", "q35,mem-merge=off",
            "-accel", "tcg",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-smp", "1,sockets=4,cores=1,threads=1,maxcpus=4",
            "-m", "256M,slots=4,maxmem=1024M",
            "-object", "memory-backend-file,id=mem0,size=256M,mem-path=/dev/shm/stencil/tpl/memory,share=off",
            "-numa", "node,nodeid=0,memdev=mem0",
            "-kernel", "/guest/vmlinux",
            "-initrd", "/guest/initrd",
            "-append", "console=ttyS0 panic=-1 quiet",
            "-chardev", "socket,id=qmp0,path=/run/stencil/c1/qmp.sock,server=on,wait=off",
            "-mon", "chardev=qmp0,mode=control",
            "-chardev", "file,id=console0,path=/run/stencil/c1/console.log,append=on",
            "-serial", "chardev:console0",
            "-device", "pcie-root-port,id=rp0,bus=pcie.0,chassis=1",
            "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=2",
            "-device", "virtio-serial-pci,id=vserial0",
            "-chardev", "socket,id=agent0,path=/run/stencil/c1/agent.sock,server=on,wait=off",
            "-device", "virtserialport,id=agentport0,bus=vserial0.0,chardev=agent0,name=stencil.agent",
            "-fsdev", "local,id=fsdev0,path=/pods/p1/rootfs,security_model=none",
            "-device", "virtio-9p-pci,id=fs0,fsdev=fsdev0,mount_tag=stencil",
            "-object", "rng-random,id=rng0,filename=/dev/urandom",
            "-device", "virtio-rng-pci,id=rngdev0,rng=rng0",
            "-device", "vmgenid,id=vmgenid0,guid=0b4b7b6e-9c1e-4d2a-8f3a-5e6f7a8b9c0d",
            "-pidfile", "/run/stencil/c1/qemu.pid",
            "-incoming", "defer",
        ];
        Assert.Equal(expected, QemuCommandLine.Build(s_description, CloneInstance()));
    }

    [Fact]
    public void Clone_differs_from_its_template_only_in_share_paths_fsdev_vmgenid_and_incoming()
    {
        var template = QemuCommandLine.Build(s_description, TemplateInstance());
        var clone = QemuCommandLine.Build(s_description, CloneInstance());

        Assert.Equal(["-incoming", "defer"], clone.Skip(template.Count));
        Assert.Equal(template.Count, clone.Count - 2);

        var differing = new List<(string Option, string Template, string Clone)>();
        for (var i = 0; i < template.Count; i++)
        {
            if (template[i] != clone[i])
                differing.Add((template[i - 1], template[i], clone[i]));
        }

        // Every difference disappears once the instance's own values are replaced by placeholders...
        foreach (var (option, t, c) in differing)
            Assert.Equal(Normalize(t, "/run/stencil/tpl", "/run/stencil/tpl/share"), Normalize(c, "/run/stencil/c1", "/pods/p1/rootfs"));

        // ...and they are exactly these options: memory sharing, the three sockets, the console file,
        // the 9p folder, the vmgenid GUID and the pid file. Nothing about devices or machine.
        Assert.Equal(
            [
                "-object memory-backend-file",
                "-chardev socket,id=qmp0",
                "-chardev file,id=console0",
                "-chardev socket,id=agent0",
                "-fsdev local",
                "-device vmgenid",
                "-pidfile",
            ],
            differing.Select(d => d.Option + (d.Option == "-pidfile" ? "" : " " + Head(d.Template))));
    }

    [Fact]
    public void Fingerprint_text_depends_on_the_description_only()
    {
        var text = QemuCommandLine.FingerprintText(s_description);
        Assert.Equal(text, QemuCommandLine.FingerprintText(s_description with { }));
        Assert.DoesNotContain("/run/stencil", text, StringComparison.Ordinal);
        Assert.NotEqual(text, QemuCommandLine.FingerprintText(s_description with { Memory = new MemoryLayout(512, 1024, 4) }));
        Assert.NotEqual(text, QemuCommandLine.FingerprintText(s_description with { HotplugRootPorts = 3 }));
        Assert.NotEqual(text, QemuCommandLine.FingerprintText(s_description with { Machine = "pc" , HotplugRootPorts = 0 }));
        Assert.Equal(text, QemuCommandLine.FingerprintText(s_description with { Sandbox = "on,spawn=deny" }));
    }

    [Fact]
    public void Process_settings_name_what_the_fingerprint_leaves_out()
    {
        Assert.Equal("seccomp sandbox: off; capabilities: not bounded; tcg translation cache: qemu default; mem-merge: off",
            QemuCommandLine.ProcessSettingsText(s_description));
        Assert.Equal("seccomp sandbox: on,spawn=deny; capabilities: chown,fowner; tcg translation cache: 16 MiB; mem-merge: on",
            QemuCommandLine.ProcessSettingsText(s_description with { Sandbox = "on,spawn=deny", Capabilities = "chown,fowner", TcgTranslationCacheMiB = 16, MemoryMerge = true }));
        // Under KVM there is no code buffer: its size does not make two processes differ.
        Assert.Equal(QemuCommandLine.ProcessSettingsText(s_description with { Accelerator = Accelerator.Kvm }),
            QemuCommandLine.ProcessSettingsText(s_description with { Accelerator = Accelerator.Kvm, TcgTranslationCacheMiB = 16 }));
        // Each of them leaves the template fingerprint alone and changes the process settings.
        foreach (var changed in new[]
        {
            s_description with { Sandbox = "on" }, s_description with { Capabilities = "chown" },
            s_description with { TcgTranslationCacheMiB = 16 }, s_description with { MemoryMerge = true },
        })
        {
            Assert.Equal(QemuCommandLine.FingerprintText(s_description), QemuCommandLine.FingerprintText(changed));
            Assert.NotEqual(QemuCommandLine.ProcessSettingsText(s_description), QemuCommandLine.ProcessSettingsText(changed));
        }
    }

    [Fact]
    public void The_seccomp_sandbox_comes_right_after_the_machine_and_takes_only_option_text()
    {
        var args = QemuCommandLine.Build(s_description with { Sandbox = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny" }, CloneInstance());
        Assert.Equal(["-machine", "q35,mem-merge=off", "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"], args.Take(4));
        var ex = Assert.Throws<StencilException>(() => QemuCommandLine.Build(s_description with { Sandbox = "on -device x" }, CloneInstance()));
        Assert.Contains("sandbox = \"on -device x\"", ex.Message);
    }

    [Fact]
    public void Minimal_description_has_no_optional_devices()
    {
        var args = QemuCommandLine.Build(new VmDescription(), VmInstance.ForColdBoot(new VmInstancePaths("/r/q.sock", "/r/a.sock")));
        Assert.Equal(
            [
                "-machine", "q35,mem-merge=off", "-accel", "tcg",
                "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
                "-smp", "1,sockets=1,cores=1,threads=1,maxcpus=1",
                "-m", "256M",
                "-object", "memory-backend-ram,id=mem0,size=256M",
                "-numa", "node,nodeid=0,memdev=mem0",
                "-chardev", "socket,id=qmp0,path=/r/q.sock,server=on,wait=off",
                "-mon", "chardev=qmp0,mode=control",
                "-device", "virtio-serial-pci,id=vserial0",
                "-chardev", "socket,id=agent0,path=/r/a.sock,server=on,wait=off",
                "-device", "virtserialport,id=agentport0,bus=vserial0.0,chardev=agent0,name=stencil.agent",
            ],
            args);
    }

    [Fact]
    public void Kvm_cpu_model_and_firmware()
    {
        var args = QemuCommandLine.Build(
            new VmDescription { Accelerator = Accelerator.Kvm, CpuModel = "host", FirmwarePath = "/usr/share/qemu/qboot.rom" },
            VmInstance.ForColdBoot(new VmInstancePaths("/r/q.sock", "/r/a.sock")));
        Assert.Equal(["-machine", "q35,mem-merge=off", "-accel", "kvm", "-cpu", "host", "-bios", "/usr/share/qemu/qboot.rom", "-nodefaults"], args.Take(9));
    }

    [Fact]
    public void Console_socket_and_no_console_keep_the_serial_device()
    {
        var description = new VmDescription { SerialConsole = true };
        var socket = QemuCommandLine.Build(description,
            VmInstance.ForColdBoot(new VmInstancePaths("/r/q.sock", "/r/a.sock") { ConsoleSocket = "/r/console.sock" }));
        Assert.Contains("socket,id=console0,path=/r/console.sock,server=on,wait=off", socket);
        Assert.Contains("chardev:console0", socket);

        var none = QemuCommandLine.Build(description, VmInstance.ForColdBoot(new VmInstancePaths("/r/q.sock", "/r/a.sock")));
        Assert.Contains("null,id=console0", none);
        Assert.Contains("chardev:console0", none);
    }

    [Fact]
    public void Commas_in_paths_are_doubled_so_they_cannot_add_options()
    {
        var args = QemuCommandLine.Build(
            new VmDescription { SharedFolder = new SharedFolderDevice("s") },
            VmInstance.ForTemplate(new VmInstancePaths("/r/q,x.sock", "/r/a.sock"), "/m/mem,share=off")
                with { SharedDirectory = "/p,readonly=on" });
        Assert.Contains("memory-backend-file,id=mem0,size=256M,mem-path=/m/mem,,share=off,share=on", args);
        Assert.Contains("socket,id=qmp0,path=/r/q,,x.sock,server=on,wait=off", args);
        Assert.Contains("local,id=fsdev0,path=/p,,readonly=on,security_model=none", args);
    }

    private static string Normalize(string arg, string instanceDir, string sharedDir) =>
        arg.Replace(sharedDir, "<shared>", StringComparison.Ordinal)
            .Replace(instanceDir, "<dir>", StringComparison.Ordinal)
            .Replace("share=on", "share=<mode>", StringComparison.Ordinal)
            .Replace("share=off", "share=<mode>", StringComparison.Ordinal)
            .Replace("guid=auto", "guid=<id>", StringComparison.Ordinal)
            .Replace("guid=" + s_cloneGuid.ToString("D"), "guid=<id>", StringComparison.Ordinal);

    /// <summary>"socket,id=qmp0,path=..." -> "socket,id=qmp0"; "vmgenid,id=..." -> "vmgenid".</summary>
    private static string Head(string arg)
    {
        var parts = arg.Split(',');
        return parts.Length > 1 && parts[1].StartsWith("id=", StringComparison.Ordinal) && parts[0] is "socket" or "file"
            ? parts[0] + "," + parts[1]
            : parts[0];
    }
}
