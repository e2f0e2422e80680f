using System.Globalization;
using System.Text.RegularExpressions;

namespace Stencil.Factory.Internal;

/// <summary>
/// The template folder (config template_path, a tmpfs) and what is in it:
/// <code>
/// {root}/.stencil-tmpfs                 marker: Stencil mounted this tmpfs
/// {root}/hashes.json                    kernel/initrd/QEMU hashes by path+size+inode+mtime
/// {root}/{fingerprint}/                 a finished template (see <see cref="Template"/>)
/// {root}/{fingerprint}.building-{pid}/  a template being built (stale if its builder is gone)
/// {root}/broken-{fingerprint}-{time}/   a template set aside after a clone failed to restore:
///                                       reason.txt, metadata.json, console.log (its memory is freed);
///                                       or a failed build of that fingerprint: reason.txt alone
/// {root}.lock                           flock: mounting, building, setting aside, destroying
/// </code>
/// The lock file sits beside the folder because the tmpfs may not be mounted yet when it is taken.
/// </summary>
internal sealed partial class TemplateStore
{
    public const string HashCacheName = "hashes.json";
    public const string ReasonName = "reason.txt";
    private const string BrokenPrefix = "broken-";
    private const int MaxSetAsideKept = 4;

    public TemplateStore(string root)
    {
        if (string.IsNullOrEmpty(root) || !root.StartsWith('/') || root.TrimEnd('/').Length == 0)
            throw StencilException.InvalidArgument($"template path \"{root}\" must be an absolute path other than /");
        Root = root.TrimEnd('/');
        Tmpfs = new TemplateTmpfs(Root);
    }

    public string Root { get; }

    public string LockPath => Root + ".lock";

    public string HashCacheFile => Path.Combine(Root, HashCacheName);

    public TemplateTmpfs Tmpfs { get; }

    public string DirectoryOf(string fingerprint) => Path.Combine(Root, fingerprint);

    public string BuildingDirectoryOf(string fingerprint) =>
        Path.Combine(Root, fingerprint + ".building-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));

    /// <summary>The finished template with this fingerprint, or null.</summary>
    public Template? TryOpen(string fingerprint)
    {
        var template = new Template(fingerprint, DirectoryOf(fingerprint));
        return File.Exists(template.MetadataFile) && File.Exists(template.StateFile) && File.Exists(template.MemoryFile) ? template : null;
    }

    public IReadOnlyList<Template> ListTemplates()
    {
        if (!Directory.Exists(Root))
            return [];
        return [.. Directory.EnumerateDirectories(Root)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => FingerprintPattern().IsMatch(name))
            .Order(StringComparer.Ordinal)
            .Select(TryOpen)
            .OfType<Template>()];
    }

    /// <summary>Set-aside templates, newest first: (fingerprint, folder, when, reason).</summary>
    public IReadOnlyList<(string Fingerprint, string Directory, DateTimeOffset When, string Reason)> ListSetAside()
    {
        if (!Directory.Exists(Root))
            return [];
        var result = new List<(string, string, DateTimeOffset, string)>();
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            var match = BrokenPattern().Match(Path.GetFileName(dir));
            if (!match.Success)
                continue;
            var when = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
            string reason;
            try
            {
                reason = File.ReadAllText(Path.Combine(dir, ReasonName)).Trim();
            }
            catch (IOException)
            {
                reason = "(no reason recorded)";
            }
            result.Add((match.Groups[1].Value, dir, when, reason));
        }
        return [.. result.OrderByDescending(r => r.Item3)];
    }

    public int SetAsideCount(string fingerprint) => ListSetAside().Count(s => s.Fingerprint == fingerprint);

    /// <summary>
    /// Where the template of <paramref name="fingerprint"/> stands: Ready (returned in
    /// <paramref name="ready"/>), SetAside once it failed <paramref name="maxFailures"/> times, else Absent.
    /// A finished template is Ready even if earlier ones of its fingerprint failed.
    /// </summary>
    public TemplateState StateOf(string fingerprint, int maxFailures, out Template? ready)
    {
        ready = TryOpen(fingerprint);
        if (ready is not null)
            return TemplateState.Ready;
        return SetAsideCount(fingerprint) >= maxFailures ? TemplateState.SetAside : TemplateState.Absent;
    }

    /// <summary>What the folder <paramref name="name"/> under the root holds, seen from the current fingerprint; null: no template folder.</summary>
    public TemplateState? StateOfFolder(string name, string currentFingerprint)
    {
        if (name.Contains(".building-", StringComparison.Ordinal))
            return TemplateState.Building;
        if (FingerprintPattern().IsMatch(name))
            return name != currentFingerprint ? TemplateState.Stale : TryOpen(name) is null ? TemplateState.Absent : TemplateState.Ready;
        if (BrokenPattern().IsMatch(name))
            return TemplateState.SetAside;
        return null;
    }

    /// <summary>
    /// Renames the template folder out of the way so no new clone uses it, writes why, and frees its
    /// memory file (running clones keep their own mapping of the inode). Safe against a concurrent
    /// rebuild: it only moves the folder if it still holds the state file that failed.
    /// </summary>
    /// <returns>The folder it now lives in, or null if it was already gone or replaced.</returns>
    public string? SetAside(Template template, ulong failedStateInode, string reason)
    {
        if (FileFacts.Read(template.StateFile) is not { } facts || facts.Inode != failedStateInode)
            return null;
        var target = Path.Combine(Root, $"{BrokenPrefix}{template.Fingerprint}-{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}");
        try
        {
            Directory.Move(template.Directory, target);
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        TryDeleteFile(Path.Combine(target, Template.MemoryName));
        try
        {
            File.WriteAllText(Path.Combine(target, ReasonName), reason + "\n");
        }
        catch (IOException)
        {
        }
        foreach (var old in ListSetAside().Skip(MaxSetAsideKept))
            TryDeleteTree(old.Directory);
        return target;
    }

    /// <summary>
    /// A build of this fingerprint failed: recorded like a set-aside template (a folder holding only
    /// reason.txt), so that repeated failures stop automatic rebuilds instead of costing every pod a
    /// failed build before its cold boot.
    /// </summary>
    public string RecordFailedBuild(string fingerprint, string reason)
    {
        var target = Path.Combine(Root, $"{BrokenPrefix}{fingerprint}-{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}");
        PrivateFiles.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, ReasonName), reason + "\n");
        foreach (var old in ListSetAside().Skip(MaxSetAsideKept))
            TryDeleteTree(old.Directory);
        return target;
    }

    /// <summary>Under the lock: removes templates of other fingerprints and unfinished builds.</summary>
    /// <returns>The folder names removed.</returns>
    public IReadOnlyList<string> RemoveStale(string keepFingerprint)
    {
        var removed = new List<string>();
        if (!Directory.Exists(Root))
            return removed;
        foreach (var dir in Directory.EnumerateDirectories(Root))
        {
            var name = Path.GetFileName(dir);
            // Under the lock a build folder is one whose builder died.
            if (StateOfFolder(name, keepFingerprint) is TemplateState.Stale or TemplateState.Building)
            {
                // Unlinking a memory file that running clones map is safe: they keep the inode.
                TryDeleteTree(dir);
                removed.Add(name);
            }
        }
        return removed;
    }

    /// <summary>Removes the set-aside folders of one fingerprint (after an explicit rebuild succeeded).</summary>
    public void ForgetSetAside(string fingerprint)
    {
        foreach (var s in ListSetAside().Where(s => s.Fingerprint == fingerprint))
            TryDeleteTree(s.Directory);
    }

    /// <summary>Under the lock: everything in the folder (templates, set-aside, builds, hash cache).</summary>
    public void RemoveAll()
    {
        if (!Directory.Exists(Root))
            return;
        foreach (var dir in Directory.EnumerateDirectories(Root))
            TryDeleteTree(dir);
        foreach (var file in Directory.EnumerateFiles(Root))
        {
            if (Path.GetFileName(file) != TemplateTmpfs.MarkerName)
                TryDeleteFile(file);
        }
    }

    /// <summary>Template folders hold only files the factory and QEMU created (no mounts), so a recursive delete is safe.</summary>
    internal static void TryDeleteTree(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the next cleanup; a leftover folder costs tmpfs space, not correctness.
        }
    }

    internal static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    [GeneratedRegex("^[0-9a-f]{20}$")]
    private static partial Regex FingerprintPattern();

    [GeneratedRegex("^broken-([0-9a-f]{20})-([0-9]+)$")]
    private static partial Regex BrokenPattern();
}
