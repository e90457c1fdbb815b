using AotCache.Loader.Linking;
using AotCache.Loader.Memory;

namespace AotCache.Loader;

/// <summary>What to do with functions whose callers were compiled against another signature [LOAD-5].</summary>
public enum StalePolicy
{
    /// <summary>Refuse the whole load and list every stale caller.</summary>
    Strict,
    /// <summary>Load the rest; each stale function is routed to an error stub, reported, and never runs.</summary>
    Lenient,
}

/// <summary>How to load a module.</summary>
public sealed record LoadOptions
{
    /// <summary>Where imports come from. Null: the module must have none.</summary>
    public IImportResolver? Imports { get; init; }

    public HostEnvironment Host { get; init; } = HostEnvironment.Current;

    public StalePolicy StalePolicy { get; init; } = StalePolicy.Strict;

    /// <summary>Null: the host's own (Linux only; others get UnsupportedPlatform).</summary>
    public IExecutableMemory? Memory { get; init; }
}
