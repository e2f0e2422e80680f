using Stencil.TestSupport;

namespace Stencil.Cri.Tests;

/// <summary>The calls that need no pod: version, status, and the image service on the imported images.</summary>
[Collection(CriCollection.Name)]
public sealed class RuntimeAndImageServiceTests(CriContainerdFixture fixture)
{
    private CriClient Client => fixture.Client;

    [Fact]
    public async Task Version_names_containerd_and_CRI_v1()
    {
        var version = await Client.VersionAsync();
        Assert.Equal("containerd", version.RuntimeName);
        Assert.Equal("v1", version.RuntimeApiVersion);
        Assert.False(string.IsNullOrEmpty(version.RuntimeVersion));
    }

    [Fact]
    public async Task Status_reports_runtime_and_network_ready()
    {
        var status = await Client.StatusAsync();
        var conditions = status.Status.Conditions.ToDictionary(c => c.Type);
        Assert.True(conditions["RuntimeReady"].Status, conditions["RuntimeReady"].ToString());
        Assert.True(conditions["NetworkReady"].Status, conditions["NetworkReady"].ToString());
    }

    [Fact]
    public async Task Imported_images_are_listed_and_an_absent_one_has_no_status()
    {
        var tags = (await Client.ListImagesAsync()).SelectMany(i => i.RepoTags).ToList();
        Assert.Contains(CriContainerdFixture.BusyboxImage, tags);
        Assert.Contains(CriContainerdFixture.PauseImage, tags);

        var busybox = await Client.ImageStatusAsync(CriContainerdFixture.BusyboxImage);
        Assert.NotNull(busybox);
        Assert.StartsWith("sha256:", busybox.Id);
        Assert.True(busybox.Size > 0, $"image size {busybox.Size}");
        Assert.Null(await Client.ImageStatusAsync("docker.io/library/absent:never"));

    }

    [Fact]
    public async Task RemoveImage_removes_an_image_with_all_its_tags()
    {
        // CRI's RemoveImage deletes the image, every tag of it included, so this one must be an image of
        // its own (another entrypoint gives another config, so another image id).
        const string extra = "docker.io/library/busybox:stencil-remove-me";
        var tar = Path.Combine(fixture.Directory, "remove-me.tar");
        await BusyboxImage.BuildAsync(tar, extra, """["true"]""");
        await BusyboxImage.ImportAsync(fixture.Containerd, "k8s.io", tar);
        await WaitForAsync(async () => await Client.ImageStatusAsync(extra) is not null, "the imported image to reach CRI");

        await Client.RemoveImageAsync(extra);
        Assert.Null(await Client.ImageStatusAsync(extra));
        Assert.NotNull(await Client.ImageStatusAsync(CriContainerdFixture.BusyboxImage));
    }

    /// <summary>The CRI plugin learns of images created by ctr from containerd's events, asynchronously.</summary>
    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited 10 s for {what}");
            await Task.Delay(50);
        }
    }
}
