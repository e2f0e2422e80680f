namespace Stencil.Agent.Client.Internal;

/// <summary>Text the guest sent that the host keeps or logs: bounded, printable ASCII only (a hostile
/// guest could send megabytes, newlines that forge log lines, or terminal escapes).</summary>
internal static class GuestText
{
    public static string Printable(string text, int maxLength)
    {
        var cut = text.Length > maxLength;
        var shown = new string([.. text.Take(maxLength).Select(c => c is >= ' ' and < '\x7f' ? c : '?')]);
        return cut ? shown + "..." : shown;
    }
}
