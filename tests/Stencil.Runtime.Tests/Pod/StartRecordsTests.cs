using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests.Pod;

/// <summary>The start records in a scratch folder: modes, newest first, bounded.</summary>
[Trait("Category", "Unit")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class StartRecordsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-starts-").FullName;

    private string Starts => Path.Combine(_dir, "starts");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static StartTimeline At(long ms, string pod) =>
        new(DateTimeOffset.FromUnixTimeMilliseconds(ms), "default", pod, 10, "template", 200, 5, 300, 100, 650);

    [Fact]
    public void Records_are_read_newest_first_and_only_the_last_ones_are_kept()
    {
        var records = new StartRecords(Starts, keep: 3);
        for (var i = 1; i <= 5; i++)
            records.Add(At(1_796_000_000_000 + i, $"pod{i}"));
        Assert.Equal(["pod5", "pod4", "pod3"], records.Read().Select(t => t.PodId));
        Assert.Equal(3, Directory.GetFiles(Starts).Length);
    }

    [Fact]
    public void The_folder_is_0700_and_each_record_0600()
    {
        Directory.CreateDirectory(Starts);
        File.SetUnixFileMode(Starts, (UnixFileMode)0x1ED); // 0755: tightened by the first write
        new StartRecords(Starts).Add(At(1_796_000_000_000, "pod1"));
        Assert.Equal((UnixFileMode)0x1C0, File.GetUnixFileMode(Starts));
        Assert.Equal((UnixFileMode)0x180, File.GetUnixFileMode(Assert.Single(Directory.GetFiles(Starts))));
    }

    [Fact]
    public void A_file_that_is_not_a_record_is_skipped_and_no_folder_means_no_starts()
    {
        Assert.Empty(new StartRecords(Starts).Read());
        var records = new StartRecords(Starts);
        records.Add(At(1_796_000_000_000, "pod1"));
        File.WriteAllText(Path.Combine(Starts, "1796000000001-default-junk.start"), "not a record\n");
        Assert.Equal("pod1", Assert.Single(records.Read()).PodId);
    }
}
