namespace Stencil.TestSupport;

/// <summary>
/// The guest image `make guest` writes under build/guest (kernel and initrd), the agent it packs and the
/// recipe it is built from (config/guest). Every test that boots a VM names these files from here.
/// </summary>
public static class GuestImage
{
    public static string Kernel => Path.Combine(RepoPaths.GuestDir, "vmlinux");

    public static string Initrd => Path.Combine(RepoPaths.GuestDir, "initrd");

    /// <summary>The published agent (build/agent) that the initrd should contain.</summary>
    public static string Agent => Path.Combine(RepoPaths.Build, "agent", "stencil-agent");

    /// <summary>config/guest: the recipe (packages, modules, the kernel command line).</summary>
    public static string RecipeDir => Path.Combine(RepoPaths.Root, "config", "guest");

    /// <summary>config/guest/cmdline, the recipe's kernel command line file.</summary>
    public static string KernelArgsFile => Path.Combine(RecipeDir, "cmdline");

    /// <summary>Fails (never skips) when `make guest` has not run.</summary>
    public static void Require()
    {
        Prerequisite.File(Kernel, "make guest");
        Prerequisite.File(Initrd, "make guest");
    }

    /// <summary><see cref="Require"/>, and QEMU to boot the image with.</summary>
    public static void RequireBootable()
    {
        Require();
        Prerequisite.Executable("qemu-system-x86_64", "scripts/deps.sh");
    }

    /// <summary>config/guest/cmdline: one line; the hypervisor library reads the same file.</summary>
    public static string KernelArgs() => File.ReadAllText(KernelArgsFile).Trim();
}
