using System.Text;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor.Tests;

[Trait("Category", "Unit")]
public sealed class OutputTailTests
{
    [Fact]
    public void Keeps_everything_below_capacity()
    {
        var tail = new OutputTail(16);
        tail.Append("hello "u8);
        tail.Append("world\n"u8);
        Assert.Equal("hello world", tail.Snapshot());
    }

    [Fact]
    public void Keeps_the_last_bytes_across_wraps_and_big_writes()
    {
        var tail = new OutputTail(8);
        var all = new StringBuilder();
        var random = new Random(7);
        for (var i = 0; i < 200; i++)
        {
            var chunk = new string((char)('a' + i % 26), random.Next(1, 20));
            all.Append(chunk);
            tail.Append(Encoding.ASCII.GetBytes(chunk));
            var expected = all.ToString();
            Assert.Equal(expected[Math.Max(0, expected.Length - 8)..], tail.Snapshot());
        }
        Assert.Equal(all.Length, tail.TotalBytes);
    }

    [Fact]
    public void A_multibyte_character_cut_at_the_start_is_dropped()
    {
        var tail = new OutputTail(4);
        tail.Append(Encoding.UTF8.GetBytes("é"));   // 2 bytes
        tail.Append("abc"u8);                        // the é's first byte rotates out
        Assert.Equal("abc", tail.Snapshot());
    }
}
