using System.Text.Json;

namespace Stencil.Factory.Internal;

/// <summary>
/// A finished template folder: {root}/{fingerprint}/ with memory (guest RAM, mapped by every clone),
/// state (device state), metadata.json (written last) and served (one byte per clone).
/// </summary>
internal sealed record Template(string Fingerprint, string Directory)
{
    public const string MemoryName = "memory";
    public const string StateName = "state";
    public const string MetadataName = "metadata.json";
    public const string ServedName = "served";
    public const string ConsoleName = "console.log";

    public string MemoryFile => Path.Combine(Directory, MemoryName);

    public string StateFile => Path.Combine(Directory, StateName);

    public string MetadataFile => Path.Combine(Directory, MetadataName);

    public string ServedFile => Path.Combine(Directory, ServedName);

    public TemplateMetadata ReadMetadata()
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(MetadataFile), FactoryJsonContext.Default.TemplateMetadata)
                ?? throw StencilException.Internal($"template metadata {MetadataFile} is empty");
        }
        catch (JsonException ex)
        {
            throw StencilException.Internal($"template metadata {MetadataFile} is not valid: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// One more clone served. O_APPEND writes of one byte from many shims never overwrite each other,
    /// so the count needs no lock. Best effort: the template may have been removed meanwhile.
    /// </summary>
    public void RecordServed()
    {
        try
        {
            using var stream = new FileStream(ServedFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            stream.WriteByte((byte)'.');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    public long ClonesServed => FileFacts.Read(ServedFile)?.Size ?? 0;
}
