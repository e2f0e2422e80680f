namespace Stencil.Factory;

/// <summary>The guest kernel command line: the image's recommended one plus the configuration's extra parameters.</summary>
public static class GuestKernelCommandLine
{
    /// <summary>Equal to config/guest/cmdline (a test holds them equal); see config/guest/README.md for each argument.</summary>
    public const string Default =
        "console=ttyS0 panic=-1 quiet tsc=reliable no_timer_check random.trust_cpu=on 8250.nr_uarts=1 i8042.noaux i8042.nomux "
        + "i8042.nopnp i8042.dumbkbd cryptomgr.notests initcall_blacklist=crypto_kdf108_init,init_kprobe_trace rdinit=/init";

    /// <param name="extra">[hypervisor] kernel_params, appended.</param>
    /// <param name="agentDebug">[agent] enable_debug: the agent logs verbosely when it finds "stencil.debug".</param>
    /// <param name="addressRandomization">
    /// false adds "norandmaps": processes in the guest get the same addresses on every run, which
    /// lets TCG reuse the code it translated for an earlier process (see [hypervisor] guest_address_randomization).
    /// </param>
    public static string Compose(string? extra, bool agentDebug, bool addressRandomization = true)
    {
        var line = Default;
        if (!addressRandomization)
            line += " norandmaps";
        if (agentDebug)
            line += " stencil.debug";
        if (!string.IsNullOrWhiteSpace(extra))
            line += " " + extra.Trim();
        return line;
    }
}
