using System.Text;

namespace Stencil.Hypervisor.Internal;

/// <summary>
/// Keeps the guest's console log (a host file QEMU appends to) from growing without bound: a compromised
/// guest kernel can write its serial port as fast as QEMU emulates it, and the file sits in the VM's
/// folder under the state dir (a tmpfs by default: host memory). Past <see cref="MaxBytes"/> the file is
/// cut to its last <see cref="KeepBytes"/> behind a line saying how much was dropped. QEMU opens it with
/// append=on, so its next write lands at the new end (a few bytes it writes during the cut may be lost).
/// </summary>
internal static class ConsoleLogLimit
{
    public const long MaxBytes = 1 << 20;
    public const int KeepBytes = 64 << 10;

    /// <summary>How often the size is looked at while QEMU runs.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>Cuts the file when it is over <paramref name="maxBytes"/>; returns the bytes dropped (0: left alone).</summary>
    public static long Trim(string path, long maxBytes = MaxBytes, int keepBytes = KeepBytes)
    {
        byte[] tail;
        long length;
        using (var read = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            length = RandomAccess.GetLength(read);
            if (length <= maxBytes)
                return 0;
            tail = new byte[Math.Min(keepBytes, length)];
            var n = RandomAccess.Read(read, tail, length - tail.Length);
            tail = tail[..n];
            RandomAccess.SetLength(read, 0);
        }
        var dropped = length - tail.Length;
        // Appended, as QEMU appends: whatever it wrote since the cut stays before this, nothing is overwritten.
        using var append = File.OpenHandle(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        var note = Encoding.ASCII.GetBytes($"[stencil: {dropped} bytes of guest console output dropped; this log keeps at most {maxBytes} bytes]\n");
        RandomAccess.Write(append, [note, tail], RandomAccess.GetLength(append));
        return dropped;
    }

    /// <summary>Trims <paramref name="path"/> every <see cref="Interval"/> until <paramref name="exited"/> completes.</summary>
    public static async Task WatchAsync(string path, Task exited)
    {
        while (!exited.IsCompleted)
        {
            await Task.WhenAny(exited, Task.Delay(Interval)).ConfigureAwait(false);
            try
            {
                Trim(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not there yet or already removed; the next round looks again.
            }
        }
    }
}
