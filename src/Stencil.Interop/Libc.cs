namespace Stencil.Interop;

/// <summary>
/// The libc calls the project makes, one entry point (or one small family) per file. Each wraps
/// Tmds.LibC's declaration where it has one that captures errno, or declares its own
/// [LibraryImport(SetLastError = true)] where it lacks one (the file says why). Constants and struct
/// layouts come from Tmds.Linux.LibC too; the few it lacks sit beside the call that uses them.
/// The wrappers do what a P/Invoke cannot: strings to NUL-terminated UTF-8, SafeHandles held for
/// the length of the call, results as plain ints. They return what libc returns (-1, or an invalid
/// handle, with errno in <see cref="Errno.Last"/>) unless their summary says they throw; the caller
/// decides whether a failure is an error and turns it into one with <see cref="Errno"/>.
/// </summary>
internal static unsafe partial class Libc
{
    /// <summary>The library name of our own declarations (Tmds.LibC binds "libc.so.6", the same glibc).</summary>
    internal const string Lib = "libc";
}
