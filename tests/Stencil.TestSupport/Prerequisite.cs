namespace Stencil.TestSupport;

/// <summary>
/// A test whose prerequisite is missing fails, with the command that provides it. It never skips:
/// `make test` installs and builds everything the tests need, so a missing piece is a real failure.
/// </summary>
public static class Prerequisite
{
    public static void File(string path, string providedBy)
    {
        if (!System.IO.File.Exists(path))
            throw new PrerequisiteMissingException($"{path} is missing (run `{providedBy}`)");
    }

    public static string Executable(string name, string providedBy)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':'))
        {
            var candidate = Path.Combine(dir, name);
            if (System.IO.File.Exists(candidate))
                return candidate;
        }
        throw new PrerequisiteMissingException($"{name} is not on PATH (run `{providedBy}`)");
    }
}

public sealed class PrerequisiteMissingException(string message) : Exception("prerequisite missing: " + message);
