using Stencil.Oci.Model;

namespace Stencil.Oci;

/// <summary>
/// Checks a spec before anything is started for it. Pure; returns every problem found, each naming
/// the field and the value, so one failed `ctr run` shows all that is wrong.
/// </summary>
public static class SpecValidator
{
    private static readonly HashSet<string> s_namespaceTypes = ["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"];
    private static readonly HashSet<string> s_deviceTypes = ["b", "c", "u", "p"];

    public static IReadOnlyList<string> Validate(Spec spec, bool requireProcess = true)
    {
        var errors = new List<string>();
        if (string.IsNullOrEmpty(spec.OciVersion))
            errors.Add("ociVersion is missing");
        else if (!spec.OciVersion.StartsWith("1.", StringComparison.Ordinal))
            errors.Add($"ociVersion \"{spec.OciVersion}\" is not supported (need 1.x)");

        if (spec.Root is null || string.IsNullOrEmpty(spec.Root.Path))
            errors.Add("root.path is missing");

        if (spec.Process is null)
        {
            if (requireProcess)
                errors.Add("process is missing");
        }
        else
        {
            ValidateProcess(spec.Process, "process", errors);
        }

        if (spec.Mounts is not null)
        {
            for (var i = 0; i < spec.Mounts.Count; i++)
            {
                var m = spec.Mounts[i];
                if (string.IsNullOrEmpty(m.Destination))
                    errors.Add($"mounts[{i}].destination is missing");
                else if (!m.Destination.StartsWith('/'))
                    errors.Add($"mounts[{i}].destination \"{m.Destination}\" must be an absolute path");
                if (m.IsBind && string.IsNullOrEmpty(m.Source))
                    errors.Add($"mounts[{i}] ({m.Destination}) is a bind mount without a source");
            }
        }

        if (spec.Linux is { } linux)
            ValidateLinux(linux, errors);
        return errors;
    }

    /// <summary>Validates and throws one InvalidArgument listing every problem.</summary>
    public static void ThrowIfInvalid(Spec spec, string source, bool requireProcess = true)
    {
        var errors = Validate(spec, requireProcess);
        if (errors.Count > 0)
            throw StencilException.InvalidArgument($"{source}: {string.Join("; ", errors)}");
    }

    public static void ValidateProcess(Process process, string where, List<string> errors)
    {
        if (process.Args is null || process.Args.Count == 0 || string.IsNullOrEmpty(process.Args[0]))
            errors.Add($"{where}.args is empty: nothing to run");
        if (string.IsNullOrEmpty(process.Cwd))
            errors.Add($"{where}.cwd is missing");
        else if (!process.Cwd.StartsWith('/'))
            errors.Add($"{where}.cwd \"{process.Cwd}\" must be an absolute path");
        if (process.Env is not null)
        {
            foreach (var e in process.Env)
            {
                if (e.IndexOf('=') <= 0)
                    errors.Add($"{where}.env entry \"{e}\" is not NAME=VALUE");
            }
        }
        if (process.ConsoleSize is not null && !process.Terminal)
            errors.Add($"{where}.consoleSize is set but {where}.terminal is false");
    }

    private static void ValidateLinux(Linux linux, List<string> errors)
    {
        if (linux.Namespaces is not null)
        {
            var seen = new HashSet<string>();
            for (var i = 0; i < linux.Namespaces.Count; i++)
            {
                var type = linux.Namespaces[i].Type ?? "";
                if (!s_namespaceTypes.Contains(type))
                    errors.Add($"linux.namespaces[{i}].type \"{type}\" is not a namespace type");
                else if (!seen.Add(type))
                    errors.Add($"linux.namespaces[{i}]: namespace \"{type}\" is listed twice");
            }
        }
        if (linux.Devices is not null)
        {
            for (var i = 0; i < linux.Devices.Count; i++)
            {
                var d = linux.Devices[i];
                if (string.IsNullOrEmpty(d.Path) || !d.Path.StartsWith('/'))
                    errors.Add($"linux.devices[{i}].path \"{d.Path}\" must be an absolute path");
                if (!s_deviceTypes.Contains(d.Type ?? ""))
                    errors.Add($"linux.devices[{i}].type \"{d.Type}\" must be one of b, c, u, p");
            }
        }
        if (linux.Resources is { } r)
        {
            if (r.Memory?.Limit is long limit && limit is 0 or < -1)
                errors.Add($"linux.resources.memory.limit {limit} must be positive (or -1 for none)");
            if (r.Cpu is { } cpu)
            {
                if (cpu.Period is 0)
                    errors.Add("linux.resources.cpu.period 0 must be positive");
                if (cpu.Quota is long q && q is 0 or < -1)
                    errors.Add($"linux.resources.cpu.quota {q} must be positive (or -1 for none)");
            }
        }
    }
}
