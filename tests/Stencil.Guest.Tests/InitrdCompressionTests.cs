namespace Stencil.Guest.Tests;

[Trait("Category", "Unit")]
public sealed class InitrdCompressionTests
{
    [Theory]
    [InlineData("1f8b0800000000000203", "gzip -dc")]
    [InlineData("02214c18aabbccdd", "lz4 -dc")]
    [InlineData("28b52ffd04580000", "zstd -dc")]
    [InlineData("3037303730313030", "cat")]
    public void TheFirstBytesNameTheDecompressor(string head, string command) =>
        Assert.Equal(command, InitrdCompression.DecompressCommand(Convert.FromHexString(head)));

    [Fact]
    public void AnUnknownFormatIsAnErrorThatShowsTheBytes()
    {
        var error = Assert.Throws<InvalidDataException>(() => InitrdCompression.DecompressCommand(Convert.FromHexString("fd377a585a00")));
        Assert.Contains("FD377A585A00", error.Message);
    }
}
