using System.Globalization;
using AotCache.Demo.Build;
using AotCache.Remote;
using AotCache.Writer;

namespace AotCache.Demo.Remote;

/// <summary>
/// How <c>build</c> and <c>run</c> use a team cache: from <c>--remote-cache</c>, <c>--remote-key</c>,
/// <c>--remote-read-only</c> and the timeouts, or from the environment variables of the same meaning (for CI); the
/// command line wins, and <c>--no-remote-cache</c> turns an environment's cache off for one build.
/// </summary>
/// <param name="Address">The store, <c>redis://HOST:PORT[,HOST:PORT…]</c>, already checked [RMT-12].</param>
/// <param name="KeyFile">The <see cref="RemoteKeyFile"/>; null: entries are neither signed nor required to be.</param>
/// <param name="ReadOnly">Fetch only.</param>
public sealed record RemoteSettings(RemoteAddress Address, string? KeyFile, bool ReadOnly, TimeSpan? ConnectTimeout, TimeSpan? CommandTimeout)
{
    public const string AddressVariable = "AOTCACHE_REMOTE_CACHE";
    public const string KeyVariable = "AOTCACHE_REMOTE_KEY";
    public const string ReadOnlyVariable = "AOTCACHE_REMOTE_READ_ONLY";
    public const string ConnectTimeoutVariable = "AOTCACHE_REMOTE_CONNECT_TIMEOUT_MS";
    public const string CommandTimeoutVariable = "AOTCACHE_REMOTE_COMMAND_TIMEOUT_MS";
    public const string ModulesVariable = "AOTCACHE_REMOTE_MODULES";

    /// <summary>Whether whole-module entries (REMOTE.md §10) are fetched and uploaded besides function entries: on unless
    /// <c>--no-remote-modules</c> or <c>AOTCACHE_REMOTE_MODULES=0</c>.</summary>
    public bool Modules { get; init; } = true;

    /// <summary>These settings, with module entries off unless <paramref name="on"/> (<c>--no-remote-modules</c> wins over the environment).</summary>
    public RemoteSettings WithModules(bool on) => on ? this : this with { Modules = false };

    /// <summary>The settings of one command line over its environment; null when no remote cache is configured.</summary>
    /// <exception cref="UsageException">An address, a flag value or a timeout is malformed; the message names the option or variable.</exception>
    public static RemoteSettings? From(string? address, string? keyFile, bool readOnly, int? connectMs, int? commandMs, bool disabled,
        Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (disabled) return null;
        string? addressSource = address is null ? AddressVariable : "--remote-cache";
        address ??= NonEmpty(environment(AddressVariable));
        if (address is null)
        {
            if (keyFile is not null || readOnly) throw new UsageException("--remote-key and --remote-read-only need --remote-cache (or " + AddressVariable + ")");
            return null;
        }
        if (!RemoteAddress.TryParse(address, out RemoteAddress? parsed, out string? error))
            throw new UsageException($"{addressSource}: '{address}' is not a remote cache address: {error} (expected redis://HOST:PORT[,HOST:PORT...])");
        keyFile ??= NonEmpty(environment(KeyVariable));
        readOnly |= Flag(environment(ReadOnlyVariable), ReadOnlyVariable);
        return new RemoteSettings(parsed, keyFile, readOnly,
            Milliseconds(connectMs, environment(ConnectTimeoutVariable), "--remote-connect-timeout", ConnectTimeoutVariable),
            Milliseconds(commandMs, environment(CommandTimeoutVariable), "--remote-command-timeout", CommandTimeoutVariable))
        {
            Modules = NonEmpty(environment(ModulesVariable)) is not { } modules || Flag(modules, ModulesVariable),
        };
    }

    /// <summary>Opens the cache for a build with these codegen settings: reads the key file and makes the store (which
    /// connects on first use, so a build that needs nothing never connects).</summary>
    /// <exception cref="UsageException">The key file cannot be read or is malformed.</exception>
    public RemoteFunctionCache Open(CodegenSettings codegen)
    {
        RemoteKeyFile? keys = KeyFile is null ? null : RemoteKeyFile.Load(KeyFile);
        var defaults = new RedisRemoteStoreOptions();
        var store = new RedisRemoteStore(Address, defaults with
        {
            ConnectTimeout = ConnectTimeout ?? defaults.ConnectTimeout,
            CommandTimeout = CommandTimeout ?? defaults.CommandTimeout,
            ReadOnly = ReadOnly,
        });
        var format = new RemoteEntryFormat(TargetDescription.LinuxX64, BuildEngine.FingerprintOf(codegen), BuildEngine.Producer,
            keys?.SigningKey, keys?.Policy);
        string? uploadsOff = ReadOnly ? "read-only" : keys is not null && keys.SigningKey is null ? "the key file holds no signing key" : null;
        RemoteModuleFormat? modules = Modules
            ? new RemoteModuleFormat(TargetDescription.LinuxX64, BuildEngine.FingerprintOf(codegen), AotCache.Format.CpuFeatures.None, keys?.SigningKey, keys?.Policy)
            : null;
        return new RemoteFunctionCache(store, format, uploadsOff, modules);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static bool Flag(string? value, string variable) => NonEmpty(value)?.ToLowerInvariant() switch
    {
        null or "0" or "false" or "no" => false,
        "1" or "true" or "yes" => true,
        _ => throw new UsageException($"{variable}: '{value}' is not 1, 0, true or false"),
    };

    private static TimeSpan? Milliseconds(int? option, string? variable, string optionName, string variableName)
    {
        int? ms = option;
        if (ms is null && NonEmpty(variable) is { } text)
            ms = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) ? parsed
                : throw new UsageException($"{variableName}: '{text}' is not a number of milliseconds");
        if (ms is null) return null;
        if (ms is < 1 or > 600_000) throw new UsageException($"{(option is null ? variableName : optionName)}: {ms} ms is not from 1 ms to 10 minutes");
        return TimeSpan.FromMilliseconds(ms.Value);
    }
}
