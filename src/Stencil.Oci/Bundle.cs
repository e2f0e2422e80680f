using Stencil.Oci.Model;

namespace Stencil.Oci;

/// <summary>An OCI bundle on the host: the folder containerd hands the shim (config.json, rootfs/).</summary>
public sealed class Bundle
{
    private Bundle(string path, Spec spec)
    {
        Path = path;
        Spec = spec;
    }

    public string Path { get; }

    public Spec Spec { get; }

    /// <summary>The rootfs folder: root.path, relative to the bundle unless absolute.</summary>
    public string RootfsPath => System.IO.Path.GetFullPath(Spec.Root!.Path!, Path);

    /// <summary>Loads and validates config.json. Every failure is InvalidArgument or NotFound naming the path.</summary>
    public static Bundle Load(string bundlePath)
    {
        if (string.IsNullOrEmpty(bundlePath) || !bundlePath.StartsWith('/'))
            throw StencilException.InvalidArgument($"bundle path \"{bundlePath}\" must be an absolute path");
        if (!Directory.Exists(bundlePath))
            throw StencilException.NotFound($"bundle {bundlePath} does not exist");
        var configPath = System.IO.Path.Combine(bundlePath, "config.json");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(configPath);
        }
        catch (FileNotFoundException)
        {
            throw StencilException.NotFound($"bundle {bundlePath} has no config.json");
        }
        var spec = SpecJson.ParseSpec(bytes, configPath);
        SpecValidator.ThrowIfInvalid(spec, configPath);
        return new Bundle(bundlePath, spec);
    }

    /// <summary>
    /// Checks that the rootfs exists. Called when no rootfs mounts came with the request: with mounts,
    /// the shim mounts them onto this folder first.
    /// </summary>
    public void EnsureRootfsExists()
    {
        if (!Directory.Exists(RootfsPath))
            throw StencilException.NotFound($"bundle {Path}: rootfs {RootfsPath} (root.path \"{Spec.Root!.Path}\") does not exist");
    }
}
