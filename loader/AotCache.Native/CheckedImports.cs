using AotCache.Format;
using AotCache.Loader;

namespace AotCache.Native;

/// <summary>
/// The imports a C host registered, for one load. Unlike a plain lookup it remembers why a registered name did not
/// resolve: the file declares it with another signature than the host gave. The loader reports every unresolved
/// import [LOAD-4]; the C layer then reports these as <see cref="Status.SignatureMismatch"/>, naming both signatures.
/// </summary>
internal sealed class CheckedImports(IReadOnlyDictionary<string, (nint Address, Signature? Signature)> entries) : IImportResolver
{
    private readonly List<string> _mismatches = [];

    public IReadOnlyList<string> Mismatches => _mismatches;

    public bool TryResolve(in ImportRequest import, out nint address)
    {
        address = 0;
        if (!entries.TryGetValue(import.Name, out var entry)) return false;
        if (entry.Signature is { } registered)
        {
            if (import.Signature is null)
            {
                _mismatches.Add($"'{import.Name}' was registered as a function {registered}, and the file imports it as data");
                return false;
            }
            if (!registered.Equals(import.Signature))
            {
                _mismatches.Add($"'{import.Name}' was registered as {registered} (0x{registered.Hash:x16}), and the file declares {import.Signature} (0x{import.Signature.Hash:x16})");
                return false;
            }
        }
        address = entry.Address;
        return true;
    }
}
