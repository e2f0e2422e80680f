using Tomlyn;
using Tomlyn.Model;

namespace Stencil.Runtime.Configuration;

/// <summary>
/// Finds and reads configuration.toml. Search order: the path containerd passes in the runtime
/// options (CRI's options.ConfigPath), then $STENCIL_CONFIG, then /etc/stencil/configuration.toml;
/// with none of them, the built-in defaults. A path named explicitly (option or variable) must
/// exist; only the system-wide file is optional.
/// </summary>
public static class ConfigLoader
{
    public const string SystemPath = "/etc/stencil/configuration.toml";

    public const string EnvironmentVariable = "STENCIL_CONFIG";

    /// <summary>Every key the file may hold, as "section.key", in the order of config/configuration.toml.</summary>
    public static IReadOnlyList<string> KnownKeys { get; } = ConfigSchema.Keys.Select(k => k.FullName).ToArray();

    /// <summary>
    /// Every key with its effective value in <paramref name="config"/>, in the order of
    /// config/configuration.toml; values as TOML has them (string, long or bool).
    /// </summary>
    public static IReadOnlyList<(string Section, string Key, object Value)> EffectiveValues(StencilConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return [.. ConfigSchema.Keys.Select(k => (k.Section, k.Name, k.Read(config) switch { int n => (long)n, var v => v }))];
    }

    /// <summary>Loads the configuration from the first place of the search order that names a file.</summary>
    public static LoadedConfig Load(string? optionPath) =>
        Load(optionPath, Environment.GetEnvironmentVariable(EnvironmentVariable), SystemPath);

    /// <summary>The search order with every input explicit (tests).</summary>
    public static LoadedConfig Load(string? optionPath, string? environmentPath, string systemPath)
    {
        var path = Resolve(optionPath, environmentPath, systemPath, File.Exists);
        return path is null ? new LoadedConfig(StencilConfig.Defaults, null) : new LoadedConfig(ReadFile(path), path);
    }

    /// <summary>Which file to read, or null for the defaults. Pure apart from <paramref name="exists"/>.</summary>
    public static string? Resolve(string? optionPath, string? environmentPath, string systemPath, Func<string, bool> exists)
    {
        if (!string.IsNullOrEmpty(optionPath))
            return Explicit(optionPath, "the runtime options' config_path");
        if (!string.IsNullOrEmpty(environmentPath))
            return Explicit(environmentPath, "$" + EnvironmentVariable);
        return exists(systemPath) ? systemPath : null;

        string Explicit(string path, string namedBy)
        {
            if (!path.StartsWith('/'))
                throw StencilException.InvalidArgument($"configuration file \"{path}\" (from {namedBy}) must be an absolute path");
            if (!exists(path))
                throw StencilException.NotFound($"configuration file {path} (from {namedBy}) does not exist");
            return path;
        }
    }

    public static StencilConfig ReadFile(string path) => Parse(ReadText(path, "configuration file"), path, ReadBase);

    /// <summary>The top-level key naming the configuration file a file's own keys are applied over.</summary>
    public const string BaseKey = "base";

    /// <summary>A base file is read as any other, but may not name a base of its own (one level: no chains, no cycles).</summary>
    private static StencilConfig ReadBase(string path) => Parse(ReadText(path, "base configuration file"), path, readBase: null);

    private static string ReadText(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StencilException(ex is FileNotFoundException or DirectoryNotFoundException ? ErrorKind.NotFound : ErrorKind.InvalidArgument,
                $"{what} {path}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Parses configuration TOML over the defaults, or, when it names one with a top-level
    /// <c>base = "/abs/path.toml"</c>, over that file (read through <paramref name="readBase"/>; null: a base is
    /// refused, as it is inside a base file). <paramref name="source"/> names the text in errors.
    /// </summary>
    public static StencilConfig Parse(string toml, string source, Func<string, StencilConfig>? readBase = null)
    {
        TomlTable document;
        try
        {
            document = TomlSerializer.Deserialize(toml, ConfigTomlContext.Default.TomlTable)
                ?? throw StencilException.InvalidArgument($"{source}: empty TOML document");
        }
        catch (TomlException ex)
        {
            throw StencilException.InvalidArgument($"{source}: not valid TOML: {OneLine(ex.Message)}");
        }
        catch (ArgumentException ex)
        {
            // Tomlyn 2.10 throws this unwrapped for a quoted key that opens the document and ends inside
            // an escape ("\u12 at the end of the file: it formats the end-of-file marker as a
            // character). Found by the fuzzer (tests/Stencil.Reliability, target toml).
            throw StencilException.InvalidArgument($"{source}: not valid TOML (the TOML parser failed on it: {OneLine(ex.Message)})");
        }

        var config = StencilConfig.Defaults;
        if (document.TryGetValue(BaseKey, out var baseValue))
        {
            if (baseValue is not string basePath || !basePath.StartsWith('/'))
                throw StencilException.InvalidArgument($"{source}: {BaseKey} = {ConfigSchema.Format(baseValue)}: expected the absolute path of another configuration file");
            if (readBase is null)
                throw StencilException.InvalidArgument($"{source}: {BaseKey} = \"{basePath}\": a base configuration cannot name a base of its own");
            config = readBase(basePath);
        }
        foreach (var (sectionName, sectionValue) in document)
        {
            if (sectionName == BaseKey)
                continue;
            if (!ConfigSchema.Sections.Contains(sectionName))
            {
                var what = sectionValue is TomlTable ? $"section [{sectionName}]" : $"key {sectionName} = {ConfigSchema.Format(sectionValue)} outside any section";
                throw StencilException.InvalidArgument($"{source}: unknown {what}; the sections are {string.Join(", ", ConfigSchema.Sections.Select(s => $"[{s}]"))}" +
                    (sectionValue is TomlTable ? "" : $", and the only key outside them is {BaseKey}"));
            }
            if (sectionValue is not TomlTable section)
                throw StencilException.InvalidArgument($"{source}: {sectionName} = {ConfigSchema.Format(sectionValue)}: expected a section [{sectionName}]");
            foreach (var (keyName, value) in section)
            {
                var key = ConfigSchema.Keys.FirstOrDefault(k => k.Section == sectionName && k.Name == keyName);
                if (key is null)
                {
                    var known = string.Join(", ", ConfigSchema.Keys.Where(k => k.Section == sectionName).Select(k => k.Name));
                    throw StencilException.InvalidArgument(
                        $"{source}: unknown key {sectionName}.{keyName} = {ConfigSchema.Format(value)}; the keys of [{sectionName}] are {known}");
                }
                config = key.Apply(config, value, $"{source}: {key.FullName} = {ConfigSchema.Format(value)}");
            }
        }
        return config;
    }

    private static string OneLine(string message) => string.Join(" ", message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
}
