using System.Diagnostics;
using System.Text;
using AotCache.Demo.Build;
using AotCache.Reader;
using AotCache.Remote;

namespace AotCache.Demo.Remote;

/// <summary>What one build did with module entries (REMOTE.md §10), for its summary.</summary>
public enum ModuleOutcome
{
    /// <summary>Not looked up: the local cache sufficed, or the build needed the whole program analysed.</summary>
    NotAsked,
    /// <summary>The store had no module entry for this program.</summary>
    Miss,
    /// <summary>The store's module entry was used: the build analysed and compiled nothing.</summary>
    Hit,
    /// <summary>The store held a module entry that was refused; the build went on with per-function entries.</summary>
    Refused,
    /// <summary>The store could not be asked.</summary>
    Unavailable,
}

/// <summary>
/// Whole-module entries as a Nib build sees them (REMOTE.md §10): the module key of a program is derived from its exact
/// source bytes, its module name and the host interface it is checked against, with the compiler's fingerprint and the
/// target; a hit is the whole cache file an earlier build wrote, so the build writes it and analyses nothing. Shares the
/// store (and so its faults and circuit breaker) with the <see cref="RemoteFunctionCache"/> that owns it.
/// </summary>
public sealed class RemoteModuleCache
{
    /// <summary>Names of the inputs of a Nib build (REMOTE.md §10.1): the host's functions, the module name, the source.</summary>
    public const string HostInputName = "nib.host", ModuleInputName = "nib.module", SourceInputName = "nib.source";

    private readonly IRemoteModuleStore _store;
    private readonly Action<string> _countRefusal;

    internal RemoteModuleCache(IRemoteModuleStore store, RemoteModuleFormat format, string? uploadsOff, Action<string> countRefusal)
    {
        _store = store;
        Format = format;
        UploadsOff = uploadsOff;
        _countRefusal = countRefusal;
    }

    public RemoteModuleFormat Format { get; }

    /// <summary>Why module entries are not uploaded; null when they are.</summary>
    public string? UploadsOff { get; }

    public ModuleOutcome Outcome { get; private set; }

    /// <summary>Why the module entry was refused, when it was.</summary>
    public string? Refusal { get; private set; }

    /// <summary>Bytes of the module entry received, and the time its fetch and checks took.</summary>
    public long BytesIn { get; private set; }

    public TimeSpan FetchTime { get; private set; }

    /// <summary>What became of this build's module upload: null when it uploaded none.</summary>
    public StoreOutcome? Uploaded { get; private set; }

    public long BytesOut { get; private set; }

    /// <summary>The build's inputs as the module key covers them [RMT-24]: every host function with its signature, the module
    /// name (written into the file's header), and the source bytes (the file's code, data and index derive from them).</summary>
    public static IReadOnlyList<AotCache.Remote.ModuleInput> InputsOf(SourceFile file, HostLibrary host)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(host);
        var interfaceText = new StringBuilder();
        foreach (HostFunction f in host.Functions.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
            interfaceText.Append(HostLibrary.Describe(f.Name, f.Parameters, f.Result)).Append('\n');
        return
        [
            AotCache.Remote.ModuleInput.OfText(HostInputName, interfaceText.ToString()),
            AotCache.Remote.ModuleInput.OfText(ModuleInputName, ProgramAnalysis.ModuleNameOf(file.Path)),
            new AotCache.Remote.ModuleInput(SourceInputName, file.Utf8),
        ];
    }

    /// <summary>The module key of building <paramref name="file"/> against <paramref name="host"/> [RMT-23].</summary>
    public RemoteModuleKey KeyOf(SourceFile file, HostLibrary host) => Format.KeyOf(InputsOf(file, host));

    /// <summary>
    /// Fetches the module entry of <paramref name="key"/> and returns its file when it passes every check of REMOTE.md
    /// §10.4 and <paramref name="fits"/>; otherwise null (a miss, a refusal counted with its reason, or an unavailable store).
    /// </summary>
    public ReadOnlyMemory<byte>? TryFetch(RemoteModuleKey key, Func<CacheImage, EntryRefusal?> fits)
    {
        long started = Stopwatch.GetTimestamp();
        ReadOnlyMemory<byte> file = default;
        EntryRefusal? refused = null;
        ModuleFetchResult result = _store.FetchModule(key, bytes =>
        {
            if (Format.TryRead(bytes, key, fits, out file, out refused)) return null;
            return refused!.ToString();
        });
        FetchTime = Stopwatch.GetElapsedTime(started);
        BytesIn = result.BytesReceived;
        switch (result.Outcome)
        {
            case FetchOutcome.Hit:
                Outcome = ModuleOutcome.Hit;
                return file;
            case FetchOutcome.Miss:
                Outcome = ModuleOutcome.Miss;
                return null;
            case FetchOutcome.Refused:
                Outcome = ModuleOutcome.Refused;
                string reason = refused?.Problem.ToString() ?? result.Refusal?.ToString() ?? "Invalid";
                Refusal = refused?.ToString() ?? result.Detail;
                _countRefusal("module " + reason);
                return null;
            default:
                Outcome = ModuleOutcome.Unavailable;
                return null;
        }
    }

    /// <summary>
    /// Uploads the file a build wrote as the module entry of <paramref name="key"/>, after checking the entry as a fetch
    /// would [RMT-29]; does nothing when uploads are off, and never throws for the store's sake.
    /// </summary>
    public void Upload(RemoteModuleKey key, ReadOnlySpan<byte> file, Func<CacheImage, EntryRefusal?> fits)
    {
        if (UploadsOff is not null || _store.Health != RemoteStoreHealth.Healthy) return;
        byte[] entry = Format.Seal(file, key);
        if (!Format.TryRead(entry, key, fits, out _, out EntryRefusal? refusal))
        {
            _countRefusal($"own module entry {refusal!.Problem}");
            return;
        }
        ModuleStoreResult result = _store.StoreModule(key, entry);
        Uploaded = result.Outcome;
        if (result.Outcome is StoreOutcome.Stored or StoreOutcome.AlreadyPresent) BytesOut = entry.Length;
    }

    /// <summary>The module part of the summary's remote line.</summary>
    public string Summary() => Outcome switch
    {
        ModuleOutcome.Hit => $"remote module hit ({Size(BytesIn)} in {FetchTime.TotalMilliseconds:F1} ms, checked)",
        ModuleOutcome.Miss => "module miss",
        ModuleOutcome.Refused => $"module entry refused ({Refusal})",
        ModuleOutcome.Unavailable => "module entry unavailable",
        _ => "module not asked",
    } + Uploaded switch
    {
        StoreOutcome.Stored => $", module uploaded ({Size(BytesOut)})",
        StoreOutcome.AlreadyPresent => ", module already there",
        null => "",
        { } other => $", module not uploaded ({other})",
    };

    internal static string Size(long bytes) => bytes < 1 << 20 ? $"{bytes / 1024.0:F1} KiB" : $"{bytes / (1024.0 * 1024):F1} MiB";
}
