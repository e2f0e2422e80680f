using System.Runtime.InteropServices;
using System.Text;

namespace Stencil.Interop;

internal static unsafe partial class Libc
{
    /// <summary>
    /// posix_spawn(3): starts <paramref name="path"/> (no PATH search) with <paramref name="argv"/>
    /// (argv[0] included) and exactly <paramref name="environment"/> ("NAME=value"). glibc implements
    /// it with clone(CLONE_VM|CLONE_VFORK), safe in a multi-threaded .NET process, unlike fork.
    /// Returns 0 and the child's pid, or the error number (posix_spawn does not set errno).
    /// Declared here: Tmds.LibC has no posix_spawn, and System.Diagnostics.Process can neither give
    /// the child a session of its own nor place fds at 3 and 4, and it reaps children itself.
    /// </summary>
    internal static int PosixSpawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> environment,
        SpawnFileActions actions, SpawnAttributes attributes, out int pid)
    {
        var owned = new List<nint>();
        try
        {
            var pathZ = Utf8Z(path, owned);
            var argvZ = Utf8Array(argv, owned);
            var envZ = Utf8Array(environment, owned);
            int child;
            var rc = PosixSpawnCore(&child, pathZ, actions.Native, attributes.Native, argvZ, envZ);
            pid = rc == 0 ? child : 0;
            return rc;
        }
        finally
        {
            foreach (var p in owned)
                NativeMemory.Free((void*)p);
        }
    }

    [LibraryImport(Lib, EntryPoint = "posix_spawn")]
    private static partial int PosixSpawnCore(int* pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    private static byte* Utf8Z(string value, List<nint> owned)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        var p = (byte*)NativeMemory.Alloc((nuint)count + 1);
        owned.Add((nint)p);
        Encoding.UTF8.GetBytes(value, new Span<byte>(p, count));
        p[count] = 0;
        return p;
    }

    /// <summary>A NULL-terminated char*[] in native memory, so nothing needs pinning.</summary>
    private static byte** Utf8Array(IReadOnlyList<string> values, List<nint> owned)
    {
        var array = (byte**)NativeMemory.AllocZeroed((nuint)(values.Count + 1), (nuint)sizeof(byte*));
        owned.Add((nint)array);
        for (var i = 0; i < values.Count; i++)
            array[i] = Utf8Z(values[i], owned);
        return array;
    }
}
