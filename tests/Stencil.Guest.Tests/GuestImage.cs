using Stencil.TestSupport;

namespace Stencil.Guest.Tests;

/// <summary>The files `make guest` produces and the recipe's recommended kernel command line.</summary>
internal static class GuestImage
{
    public static string Kernel => Path.Combine(RepoPaths.GuestDir, "vmlinux");

    public static string Initrd => Path.Combine(RepoPaths.GuestDir, "initrd");

    public static string Agent => Path.Combine(RepoPaths.Build, "agent", "stencil-agent");

    public static string RecipeDir => Path.Combine(RepoPaths.Root, "config", "guest");

    public static void RequireBuilt()
    {
        Prerequisite.File(Kernel, "make guest");
        Prerequisite.File(Initrd, "make guest");
    }

    /// <summary>config/guest/cmdline: one line; the hypervisor library reads the same file.</summary>
    public static string KernelArgs() => File.ReadAllText(Path.Combine(RecipeDir, "cmdline")).Trim();
}
