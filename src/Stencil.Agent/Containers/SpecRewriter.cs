using Stencil.Oci;
using Stencil.Oci.Model;

namespace Stencil.Agent.Containers;

/// <summary>
/// Checks the spec the host sent and adapts what only makes sense on the host. Pure (lexical path
/// checks only; the manager resolves symlinks once the storages are mounted):
/// - root.path and every bind-mount source must lie in the container's folder or the shared folder;
///   a relative path is relative to the bundle (the container's folder), as in the OCI spec;
/// - the network namespace goes (the VM's network is the pod's), and namespace paths go (they name
///   host files);
/// - hooks go, but createContainer and startContainer (the host runs the others): startContainer's path
///   is resolved in the container by the OCI runtime, createContainer's in the runtime's own root, so it
///   is made the same file under root.path (a program of the container's, as the host side promised);
///   AppArmor and SELinux labels go (the guest has neither);
/// - linux.cgroupsPath becomes /stencil/&lt;id&gt;, so the agent knows where to read stats and OOMs;
/// - net.* sysctls are for the agent to write (<see cref="TakeNetworkSysctls"/>).
/// </summary>
internal static class SpecRewriter
{
    internal const string CgroupParent = "/stencil";

    internal static Spec Rewrite(ReadOnlySpan<byte> json, string containerId, string containerDir, string? sharedRoot)
    {
        if (json.IsEmpty)
            throw StencilException.InvalidArgument("oci_spec_json is empty");
        var spec = SpecJson.ParseSpec(json, "oci_spec_json");
        SpecValidator.ThrowIfInvalid(spec, "oci_spec_json");

        spec.Root!.Path = Confine(spec.Root.Path!, "root.path", containerDir, sharedRoot);

        if (spec.Mounts is { } mounts)
        {
            for (var i = 0; i < mounts.Count; i++)
            {
                if (mounts[i].IsBind)
                    mounts[i].Source = Confine(mounts[i].Source!, $"mounts[{i}].source", containerDir, sharedRoot);
            }
        }

        if (spec.Extra?.Remove("hooks", out var hooks) == true && ContainerHooks(hooks, spec.Root.Path) is { } kept)
            spec.Extra["hooks"] = kept;
        if (spec.Process is { } process)
        {
            process.ApparmorProfile = null;
            process.SelinuxLabel = null;
        }

        spec.Linux ??= new Linux();
        if (spec.Linux.Namespaces is { } namespaces)
        {
            namespaces.RemoveAll(n => n.Type == "network");
            foreach (var ns in namespaces)
                ns.Path = null;
        }
        spec.Linux.Extra?.Remove("mountLabel");
        spec.Linux.CgroupsPath = $"{CgroupParent}/{containerId}";
        return spec;
    }

    internal static byte[] Serialize(Spec spec) => SpecJson.Serialize(spec);

    /// <summary>The createContainer and startContainer hooks of <paramref name="hooks"/>, createContainer's
    /// paths made absolute under <paramref name="rootPath"/>; null when there are none.</summary>
    internal static System.Text.Json.JsonElement? ContainerHooks(System.Text.Json.JsonElement hooks, string rootPath)
    {
        if (SpecHooks.ContainerNamespaceHooks(hooks) is not { } kept)
            return null;
        foreach (var (kind, list) in kept)
        {
            foreach (var hook in list!.AsArray())
            {
                if (hook?["path"]?.GetValue<string>() is not { } path || !path.StartsWith('/') || path.Split('/').Contains(".."))
                    throw StencilException.InvalidArgument($"hooks.{kind}: path must be an absolute path without ..");
                if (kind == "createContainer")
                    hook["path"] = rootPath.TrimEnd('/') + path;
            }
        }
        return SpecHooks.ToElement(kept);
    }

    /// <summary>
    /// Takes the network sysctls (net.*) out of linux.sysctl and returns them as /proc/sys files with
    /// their values. The container gets no network namespace of its own (the pod's network is the
    /// guest's root namespace), and crun refuses a net.* sysctl without one; the agent writes them
    /// into the root namespace instead, which is the pod's network, as runc does in the pod's netns.
    /// Keys use sysctl's notation: '.' separates levels, '/' stands for a '.' inside a name
    /// (net.ipv4.conf.eth0/100.forwarding).
    /// </summary>
    internal static IReadOnlyList<(string Path, string Value)> TakeNetworkSysctls(Spec spec)
    {
        if (spec.Linux?.Sysctl is not { } sysctls)
            return [];
        var taken = new List<(string Path, string Value)>();
        foreach (var (key, value) in sysctls.Where(kv => kv.Key.StartsWith("net.", StringComparison.Ordinal)).ToList())
        {
            var relative = new string([.. key.Select(c => c switch { '.' => '/', '/' => '.', _ => c })]);
            if (relative.Split('/').Any(part => part is "" or "." or ".."))
                throw StencilException.InvalidArgument($"linux.sysctl \"{key}\" is not a sysctl name");
            taken.Add(($"/proc/sys/{relative}", value));
            sysctls.Remove(key);
        }
        return taken;
    }

    /// <summary>The exec process: parsed and checked like the spec's, labels dropped.</summary>
    internal static Stencil.Oci.Model.Process RewriteProcess(ReadOnlySpan<byte> json)
    {
        if (json.IsEmpty)
            throw StencilException.InvalidArgument("process_json is empty");
        var process = SpecJson.ParseProcess(json, "process_json");
        var errors = new List<string>();
        SpecValidator.ValidateProcess(process, "process", errors);
        if (errors.Count > 0)
            throw StencilException.InvalidArgument($"process_json: {string.Join("; ", errors)}");
        process.ApparmorProfile = null;
        process.SelinuxLabel = null;
        return process;
    }

    private static string Confine(string path, string field, string containerDir, string? sharedRoot)
    {
        if (!path.StartsWith('/'))
            return GuestPaths.Inside(containerDir, path, field);
        if (path.Split('/').Contains(".."))
            throw new StencilException(ErrorKind.PermissionDenied, $"{field} \"{path}\" contains \"..\"");
        var normalized = GuestPaths.Normalize(path);
        if (GuestPaths.IsUnder(normalized, containerDir) || (sharedRoot is not null && GuestPaths.IsUnder(normalized, sharedRoot)))
            return normalized;
        var allowed = sharedRoot is null ? containerDir : $"{containerDir} or {sharedRoot}";
        throw new StencilException(ErrorKind.PermissionDenied, $"{field} \"{path}\" is outside {allowed}");
    }
}
