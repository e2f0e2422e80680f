using System.Text.Json.Nodes;

namespace Stencil.TestSupport;

/// <summary>A checkpoint image in a private containerd's content store (what `ctr container checkpoint` made).</summary>
public static class CheckpointImage
{
    /// <summary>The media type of the task's data (the folder the shim wrote, as a tar).</summary>
    public const string TaskDataMediaType = "application/vnd.containerd.container.criu.checkpoint.criu.tar";

    /// <summary>
    /// The content-store file of <paramref name="image"/>'s task data, found through its index (named by
    /// media type); <paramref name="imageList"/> is the output of `ctr image ls`.
    /// </summary>
    public static string TaskDataBlob(PrivateContainerd containerd, string image, CommandResult imageList)
    {
        ArgumentNullException.ThrowIfNull(containerd);
        var line = imageList.EnsureSuccess("ctr image ls").Split('\n').First(l => l.StartsWith(image + " ", StringComparison.Ordinal));
        var indexDigest = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).First(f => f.StartsWith("sha256:", StringComparison.Ordinal));
        var index = JsonNode.Parse(File.ReadAllText(Blob(containerd, indexDigest)))!;
        var task = index["manifests"]!.AsArray().First(m => (string?)m!["mediaType"] == TaskDataMediaType)!;
        return Blob(containerd, (string)task["digest"]!);
    }

    private static string Blob(PrivateContainerd containerd, string digest) =>
        Path.Combine(containerd.Root, "io.containerd.content.v1.content", "blobs", "sha256", digest["sha256:".Length..]);
}
