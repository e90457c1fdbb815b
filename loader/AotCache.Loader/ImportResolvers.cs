using System.Runtime.InteropServices;
using AotCache.Format;
using AotCache.Loader.Memory;

namespace AotCache.Loader;

/// <summary>What the loader asks a host for, once per import: names matter only here.</summary>
public readonly record struct ImportRequest(string Name, SymbolKind Kind, Signature? Signature);

/// <summary>Provides addresses for a module's imports.</summary>
public interface IImportResolver
{
    /// <summary>The address of <paramref name="import"/>, or false when this resolver does not have it.</summary>
    bool TryResolve(in ImportRequest import, out nint address);

    /// <summary>Why this resolver did not resolve <paramref name="import"/> although it has something under its name
    /// (e.g. "registered as sysv (i32) -> i64"), for the loader's report; null (the default) when it has nothing
    /// under that name. A signature mismatch is then reported as such, not as a missing import.</summary>
    string? DescribeMiss(in ImportRequest import) => null;
}

/// <summary>
/// Imports the host registers by name: <c>[UnmanagedCallersOnly]</c> function pointers, data
/// addresses, or anything else with a stable address. Optionally checks the signature a file
/// expects against the one registered.
/// </summary>
public sealed class ImportTable : IImportResolver
{
    private readonly Dictionary<string, (nint Address, Signature? Signature, Func<nint>? Guard)> _entries = new(StringComparer.Ordinal);

    /// <summary>Registers a function; when <paramref name="signature"/> is given, a file declaring the import
    /// with another signature does not resolve it.</summary>
    public ImportTable Add(string name, nint address, Signature? signature = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (address == 0) throw new ArgumentException($"import {Names.Quote(name)} needs a non-null address", nameof(address));
        _entries[name] = (address, signature, null);
        return this;
    }

    /// <summary>
    /// Registers a managed delegate as a native function (safe code, no function-pointer syntax). The
    /// delegate type must be non-generic with blittable parameters. An exception it throws while loaded code
    /// called it is caught where it returns to loaded code, the call is abandoned back to the innermost
    /// <see cref="LoadedModule.Invoke(string, ReadOnlySpan{Value})"/> on the thread, and that <c>Invoke</c> rethrows it ([LOAD-11]; an
    /// <c>[UnmanagedCallersOnly]</c> function registered by address must not throw: .NET ends the process).
    /// The delegate and its guard live as long as the process may call them: loaded code keeps the address.
    /// Under NativeAOT, declare the delegate's type with <c>[UnmanagedFunctionPointer]</c> or pass it with its own static type,
    /// so that the compiler keeps a marshalling stub for it.
    /// </summary>
    /// <exception cref="ArgumentException">The delegate's type is generic (e.g. <c>Func&lt;long, long&gt;</c>), or
    /// no stub exists for it in a NativeAOT program.</exception>
    public ImportTable Add<TDelegate>(string name, TDelegate callback, Signature? signature = null) where TDelegate : Delegate
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(callback);
        Type type = callback.GetType();
        if (type.IsGenericType)
            throw new ArgumentException($"import {Names.Quote(name)}: {DisplayName(type)} is a generic delegate type, and native code can call only " +
                "delegates of non-generic types; declare one (e.g. 'delegate long Tick(long value);') or register an [UnmanagedCallersOnly] " +
                "method's address", nameof(callback));
        try
        {
            // Whether native code can call this type at all: under NativeAOT, only types the compiler kept a marshalling
            // stub for. The runtime's exception for a missing stub derives from Exception alone.
            _ = Marshal.GetFunctionPointerForDelegate(callback);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ArgumentException($"import {Names.Quote(name)}: native code cannot call a delegate of type {DisplayName(type)} in this program " +
                "(under NativeAOT, pass it with its own static type, or declare the type with [UnmanagedFunctionPointer]): " + e.Message,
                nameof(callback), e);
        }
        _entries[name] = (0, signature, () => HostCallGuard.AddressOf(callback)); // the guard is made when a module first imports it
        return this;
    }

    private static string DisplayName(Type type)
    {
        if (!type.IsGenericType) return type.Name;
        string name = type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        return $"{(tick < 0 ? name : name[..tick])}<{string.Join(", ", type.GetGenericArguments().Select(DisplayName))}>";
    }

    /// <inheritdoc/>
    public bool TryResolve(in ImportRequest import, out nint address)
    {
        address = 0;
        if (!_entries.TryGetValue(import.Name, out var entry)) return false;
        if (entry.Signature is not null && import.Signature is not null && !entry.Signature.Equals(import.Signature)) return false;
        address = entry.Guard is { } guard ? guard() : entry.Address;
        return true;
    }

    /// <summary>"registered as SIGNATURE" when <paramref name="import"/>'s name was registered with another signature
    /// than the one the file declares.</summary>
    public string? DescribeMiss(in ImportRequest import) =>
        _entries.TryGetValue(import.Name, out var entry) && entry.Signature is not null && import.Signature is not null
            && !entry.Signature.Equals(import.Signature)
            ? $"registered as {entry.Signature}"
            : null;
}

/// <summary>Resolves imports from exports of native libraries, e.g. <c>libc.so.6</c>.</summary>
public sealed class NativeLibraryResolver : IImportResolver, IDisposable
{
    private readonly List<nint> _handles = [];

    /// <summary>Loads <paramref name="libraries"/> (names or paths, as <see cref="NativeLibrary.Load(string)"/> takes them); imports are looked up in this order.</summary>
    public NativeLibraryResolver(params string[] libraries)
    {
        foreach (string library in libraries)
            _handles.Add(NativeLibrary.Load(library));
    }

    /// <inheritdoc/>
    public bool TryResolve(in ImportRequest import, out nint address)
    {
        foreach (nint handle in _handles)
            if (NativeLibrary.TryGetExport(handle, import.Name, out address)) return true;
        address = 0;
        return false;
    }

    /// <summary>Forgets the libraries without unloading them: loaded code may still point into them.</summary>
    public void Dispose()
    {
        // Loaded code may still point into the libraries; like ld.so, never unload them under it.
        _handles.Clear();
    }
}

/// <summary>Tries several resolvers in order.</summary>
public sealed class ChainedResolver(params IImportResolver[] resolvers) : IImportResolver
{
    /// <inheritdoc/>
    public bool TryResolve(in ImportRequest import, out nint address)
    {
        foreach (IImportResolver r in resolvers)
            if (r.TryResolve(import, out address)) return true;
        address = 0;
        return false;
    }

    /// <summary>The first explanation one of the resolvers gives.</summary>
    public string? DescribeMiss(in ImportRequest import)
    {
        foreach (IImportResolver r in resolvers)
            if (r.DescribeMiss(import) is { } reason) return reason;
        return null;
    }
}
