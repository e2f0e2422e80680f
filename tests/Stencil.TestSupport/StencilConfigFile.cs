namespace Stencil.TestSupport;

/// <summary>
/// A Stencil configuration file (TOML) as the tests write it: everything a run creates (state, shim
/// sockets, the template) inside the test's own folder, so that runs never share or leak state and
/// the leftover checks (<see cref="Leftovers"/>) can look for exactly that folder. Sections whose
/// settings are all unset are left out, so the product's defaults apply to them.
/// </summary>
public sealed class StencilConfigFile
{
    /// <summary>[hypervisor] kernel and initrd from build/guest (<see cref="GuestImage"/>).</summary>
    public bool UseGuestImage { get; init; }

    /// <summary>More [hypervisor] lines, verbatim (e.g. "tcg_translation_cache_mib = 16").</summary>
    public string? HypervisorKeys { get; init; }

    /// <summary>[factory] template_path.</summary>
    public string? TemplatePath { get; init; }

    /// <summary>More [factory] lines, verbatim (e.g. "enable_template = false").</summary>
    public string? FactoryKeys { get; init; }

    /// <summary>
    /// [factory] daemon_socket; by default state_dir/factory.sock, so a test's shims never ask a
    /// factory daemon the machine may run (the test starts its own there when it wants one).
    /// </summary>
    public string? DaemonSocket { get; init; }

    /// <summary>[runtime] state_dir.</summary>
    public required string StateDir { get; init; }

    /// <summary>[runtime] shim_socket_dir.</summary>
    public string? ShimSocketDir { get; init; }

    /// <summary>More [runtime] lines, as written.</summary>
    public string? RuntimeKeys { get; init; }

    public string Text
    {
        get
        {
            var lines = new List<string>();
            if (UseGuestImage)
                lines.AddRange(["[hypervisor]", $"kernel = \"{GuestImage.Kernel}\"", $"initrd = \"{GuestImage.Initrd}\""]);
            if (HypervisorKeys is not null)
            {
                if (!UseGuestImage)
                    lines.Add("[hypervisor]");
                lines.Add(HypervisorKeys);
            }
            lines.Add("[factory]");
            lines.Add($"daemon_socket = \"{DaemonSocket ?? StateDir.TrimEnd('/') + "/factory.sock"}\"");
            if (TemplatePath is not null)
                lines.Add($"template_path = \"{TemplatePath}\"");
            if (FactoryKeys is not null)
                lines.Add(FactoryKeys);
            lines.AddRange(["[runtime]", $"state_dir = \"{StateDir}\""]);
            if (ShimSocketDir is not null)
                lines.Add($"shim_socket_dir = \"{ShimSocketDir}\"");
            if (RuntimeKeys is not null)
                lines.Add(RuntimeKeys);
            return string.Join('\n', lines) + "\n";
        }
    }

    /// <summary>Writes <see cref="Text"/> to <paramref name="path"/> and returns the path.</summary>
    public string WriteTo(string path)
    {
        File.WriteAllText(path, Text);
        return path;
    }

    /// <summary>
    /// The shipped dense preset (config/configuration-dense.toml) as a file at <paramref name="path"/> whose base is
    /// <paramref name="basePath"/> (a test's own configuration) instead of /etc/stencil/configuration.toml.
    /// </summary>
    public static string WriteDensePreset(string basePath, string path)
    {
        const string BaseLine = "base = \"/etc/stencil/configuration.toml\"\n";
        var dense = File.ReadAllText(Path.Combine(RepoPaths.Root, "config", "configuration-dense.toml"));
        if (!dense.Contains(BaseLine, StringComparison.Ordinal))
            throw new InvalidOperationException($"config/configuration-dense.toml has no line {BaseLine.Trim()}");
        File.WriteAllText(path, dense.Replace(BaseLine, $"base = \"{basePath}\"\n", StringComparison.Ordinal));
        return path;
    }
}
