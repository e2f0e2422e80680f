using System.Globalization;

namespace Stencil.Runtime.Pod;

/// <summary>
/// The last pod starts on this host, one small file each in {state_dir}/starts (a 0700 folder, files
/// 0600: pod ids are nobody else's business), written by the shims and read by `stencil starts`. Bounded:
/// each write removes the oldest files beyond <see cref="Keep"/>. A file is written under a temporary
/// name and renamed, so a reader never sees half a record.
/// </summary>
public sealed class StartRecords(string directory, int keep = StartRecords.DefaultKeep)
{
    /// <summary>How many starts are kept by default.</summary>
    public const int DefaultKeep = 50;

    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const string Suffix = ".start";

    public string Directory { get; } = directory;

    public int Keep { get; } = keep;

    /// <summary>Records <paramref name="timeline"/> and drops the oldest records beyond <see cref="Keep"/>.</summary>
    public void Add(StartTimeline timeline)
    {
        if (OperatingSystem.IsWindows()) // never; the guard tells the platform analyzer so
            throw new PlatformNotSupportedException();
        System.IO.Directory.CreateDirectory(Directory, FolderMode);
        File.SetUnixFileMode(Directory, FolderMode); // also when it was there with other modes
        // Sorts by time: 13 digits of unix milliseconds cover the years 2001 to 2286.
        var name = $"{timeline.StartedAt.ToUnixTimeMilliseconds().ToString("D13", CultureInfo.InvariantCulture)}-{timeline.Namespace}-{timeline.PodId}";
        if (name.Length > 200)
            name = name[..200];
        var path = Path.Combine(Directory, name + Suffix);
        var temporary = Path.Combine(Directory, $".{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.tmp");
        using (var file = new FileStream(temporary, new FileStreamOptions { Mode = System.IO.FileMode.Create, Access = FileAccess.Write, UnixCreateMode = FileMode }))
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(timeline.ToRecord());
            file.Write(bytes);
        }
        File.Move(temporary, path, overwrite: true);
        Prune();
    }

    /// <summary>The recorded starts, newest first; a file that is not a record is skipped.</summary>
    public IReadOnlyList<StartTimeline> Read()
    {
        var found = new List<StartTimeline>();
        foreach (var path in Enumerable.Reverse(Files()))
        {
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (IOException)
            {
                continue; // removed meanwhile by a shim's prune
            }
            if (StartTimeline.TryParseRecord(text, out _) is { } timeline)
                found.Add(timeline);
        }
        return found;
    }

    private void Prune()
    {
        var files = Files();
        for (var i = 0; i < files.Count - Keep; i++)
        {
            try
            {
                File.Delete(files[i]);
            }
            catch (IOException)
            {
                // Another shim pruned it first.
            }
        }
    }

    /// <summary>The record files, oldest first.</summary>
    private List<string> Files()
    {
        if (!System.IO.Directory.Exists(Directory))
            return [];
        var files = System.IO.Directory.GetFiles(Directory, "*" + Suffix).ToList();
        files.Sort(StringComparer.Ordinal);
        return files;
    }
}
