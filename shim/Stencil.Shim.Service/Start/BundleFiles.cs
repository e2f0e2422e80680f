using Stencil.Oci;
using Stencil.Oci.Model;

namespace Stencil.Shim.Start;

/// <summary>
/// The files the shim reads and writes in a container's bundle. containerd creates the bundle
/// (config.json, rootfs/, the `log` FIFO) and deletes it after `delete`.
/// </summary>
internal static class BundleFiles
{
    /// <summary>The shim's address; containerd reads it to reconnect after it restarts.</summary>
    public const string Address = "address";

    /// <summary>The configuration file `start` chose (empty: built-in defaults), for `delete`, which gets no runtime options.</summary>
    public const string ConfigPath = "stencil-config-path";

    public const string Log = "log";

    /// <summary>Reads config.json for its annotations (pod grouping); the full validation is Create's job.</summary>
    public static Spec ReadSpec(string bundle)
    {
        var path = Path.Combine(bundle, "config.json");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw StencilException.NotFound($"bundle {bundle} has no config.json");
        }
        return SpecJson.ParseSpec(bytes, path);
    }

    public static string PodId(string bundle, string containerId) => CriAnnotations.PodId(ReadSpec(bundle), containerId);

    /// <summary>
    /// <see cref="PodId"/> for `start` and the daemon: a config.json that cannot be read or parsed
    /// makes the container its own pod. Create loads and validates the bundle before anything else
    /// and refuses it with InvalidArgument naming config.json, which containerd reports as the
    /// task's error; a failed `start` would only say it less precisely.
    /// </summary>
    public static string PodIdOrOwn(string bundle, string containerId)
    {
        try
        {
            return PodId(bundle, containerId);
        }
        catch (StencilException ex) when (ex.Kind is ErrorKind.InvalidArgument or ErrorKind.NotFound)
        {
            return containerId;
        }
    }

    /// <summary>
    /// Writes a small file in one step (write a temporary file, rename it over the name). A bundle whose
    /// disk is full (or read-only) is ResourceExhausted/FailedPrecondition naming the file and the reason,
    /// and the temporary file does not stay.
    /// </summary>
    public static void WriteAtomically(string path, string content)
    {
        var temp = path + ".tmp";
        try
        {
            File.WriteAllText(temp, content);
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // reported with the first failure's words below
            }
            var full = ex is IOException { HResult: 28 } || ex.Message.Contains("No space left", StringComparison.Ordinal);
            throw new StencilException(full ? ErrorKind.ResourceExhausted : ErrorKind.FailedPrecondition,
                $"cannot write {path} in the bundle: {ex.Message}", ex);
        }
    }

    public static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
