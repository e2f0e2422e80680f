using System.Runtime.InteropServices;

namespace Stencil.Interop;

/// <summary>
/// The fd of a SafeHandle for the length of one call: the handle cannot be closed (and its number
/// reused) meanwhile. Releasing keeps the call's errno, even when the release is the one that closes.
/// </summary>
internal ref struct FdLease
{
    private readonly SafeHandle _handle;
    private bool _added;

    internal FdLease(SafeHandle handle)
    {
        _handle = handle;
        _handle.DangerousAddRef(ref _added);
        Fd = checked((int)_handle.DangerousGetHandle());
    }

    internal int Fd { get; }

    public void Dispose()
    {
        if (!_added)
            return;
        _added = false;
        var errno = Marshal.GetLastPInvokeError();
        _handle.DangerousRelease();
        Marshal.SetLastPInvokeError(errno);
    }
}
