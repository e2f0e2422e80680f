using System.Text;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor.Tests;

/// <summary>The guest console's file stays bounded however much a (hostile) guest writes to its serial port.</summary>
[Trait("Category", "Unit")]
public sealed class ConsoleLogLimitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-console-").FullName;

    private string Log => Path.Combine(_dir, "console.log");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_log_under_the_limit_is_left_alone()
    {
        File.WriteAllText(Log, "booted\n");
        Assert.Equal(0, ConsoleLogLimit.Trim(Log, maxBytes: 1000, keepBytes: 100));
        Assert.Equal("booted\n", File.ReadAllText(Log));
    }

    [Fact]
    public void A_log_over_the_limit_keeps_its_tail_behind_a_line_saying_how_much_was_dropped()
    {
        File.WriteAllText(Log, new string('a', 2900) + new string('z', 100));

        Assert.Equal(2900, ConsoleLogLimit.Trim(Log, maxBytes: 1000, keepBytes: 100));

        Assert.Equal("[stencil: 2900 bytes of guest console output dropped; this log keeps at most 1000 bytes]\n" + new string('z', 100),
            File.ReadAllText(Log));
    }

    [Fact]
    public void A_writer_appending_as_QEMU_does_goes_on_at_the_new_end_without_a_hole()
    {
        // QEMU's chardev file with append=on: O_APPEND, kept open for the VM's life (.NET's FileMode.Append is no O_APPEND).
        using var qemu = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(Open(Log, OWronly | OCreat | OAppend, 0x180), ownsHandle: true),
            FileAccess.Write, bufferSize: 0);
        for (var i = 0; i < 100; i++)
            qemu.Write(Encoding.ASCII.GetBytes(new string('x', 99) + "\n"));

        ConsoleLogLimit.Trim(Log, maxBytes: 5000, keepBytes: 200);
        qemu.Write("after\n"u8);

        var text = File.ReadAllText(Log);
        Assert.StartsWith("[stencil: 9800 bytes of guest console output dropped;", text);
        Assert.EndsWith(new string('x', 99) + "\nafter\n", text);
        Assert.True(new FileInfo(Log).Length < 400, $"the log is {new FileInfo(Log).Length} bytes");
        Assert.DoesNotContain('\0', text);
    }

    private const int OWronly = 0x1, OCreat = 0x40, OAppend = 0x400;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern nint Open(string path, int flags, int mode);
}
