using System.Runtime.InteropServices;
using AotCache.Format;

namespace AotCache.Loader.Linking;

/// <summary>What the loader asks a host for, once per import: names matter only here.</summary>
public readonly record struct ImportRequest(string Name, SymbolKind Kind, Signature? Signature);

/// <summary>Provides addresses for a module's imports.</summary>
public interface IImportResolver
{
    /// <summary>The address of <paramref name="import"/>, or false when this resolver does not have it.</summary>
    bool TryResolve(in ImportRequest import, out nint address);
}

/// <summary>
/// Imports the host registers by name: <c>[UnmanagedCallersOnly]</c> function pointers, data
/// addresses, or anything else with a stable address. Optionally checks the signature a file
/// expects against the one registered.
/// </summary>
public sealed class ImportTable : IImportResolver
{
    private readonly Dictionary<string, (nint Address, Signature? Signature)> _entries = new(StringComparer.Ordinal);
    private readonly List<Delegate> _keepAlive = [];

    /// <summary>Registers a function; when <paramref name="signature"/> is given, a file declaring the import
    /// with another signature does not resolve it.</summary>
    public ImportTable Add(string name, nint address, Signature? signature = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (address == 0) throw new ArgumentException($"import {Names.Quote(name)} needs a non-null address", nameof(address));
        _entries[name] = (address, signature);
        return this;
    }

    /// <summary>
    /// Registers a managed delegate as a native function (safe code, no function-pointer syntax). The delegate type
    /// must be non-generic, with blittable parameters and result (<c>long</c>, <c>double</c>, <c>nint</c>…): native
    /// code reaches it through a marshalling stub made for that type. Under NativeAOT the stub is compiled ahead of
    /// time for <typeparamref name="TDelegate"/> as the compiler sees it here, so pass the delegate with its own type
    /// (not as <see cref="Delegate"/>), or declare its type with <c>[UnmanagedFunctionPointer]</c>, which makes the
    /// compiler keep a stub for it whatever the static type. The table keeps the delegate alive, so keep the table
    /// alive as long as loaded code may call it.
    /// </summary>
    /// <exception cref="ArgumentException">The delegate's type is generic (e.g. <c>Func&lt;long, long&gt;</c>), or
    /// no stub exists for it in a NativeAOT program.</exception>
    public ImportTable Add<TDelegate>(string name, TDelegate callback, Signature? signature = null) where TDelegate : Delegate
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(callback);
        Type type = callback.GetType();
        if (type.IsGenericType)
            throw new ArgumentException($"import {Names.Quote(name)}: the delegate type {DisplayName(type)} is generic, and native code can call only " +
                "delegates of non-generic types; declare one (e.g. 'delegate long Tick(long value);') or register an [UnmanagedCallersOnly] " +
                "method's address", nameof(callback));
        nint address;
        try
        {
            address = Marshal.GetFunctionPointerForDelegate(callback);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // NativeAOT: no marshalling stub was compiled for this type (it was passed as Delegate and lacks the attribute);
            // the runtime's exception for that derives from Exception alone.
            throw new ArgumentException($"import {Names.Quote(name)}: native code cannot call a delegate of type {DisplayName(type)} in this program " +
                "(under NativeAOT, pass it with its own static type, or declare the type with [UnmanagedFunctionPointer]): " + e.Message,
                nameof(callback), e);
        }
        _keepAlive.Add(callback);
        return Add(name, address, signature);
    }

    private static string DisplayName(Type type)
    {
        if (!type.IsGenericType) return type.Name;
        string name = type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        return $"{(tick < 0 ? name : name[..tick])}<{string.Join(", ", type.GetGenericArguments().Select(DisplayName))}>";
    }

    public bool TryResolve(in ImportRequest import, out nint address)
    {
        address = 0;
        if (!_entries.TryGetValue(import.Name, out var entry)) return false;
        if (entry.Signature is not null && import.Signature is not null && !entry.Signature.Equals(import.Signature)) return false;
        address = entry.Address;
        return true;
    }
}

/// <summary>Resolves imports from exports of native libraries, e.g. <c>libc.so.6</c>.</summary>
public sealed class NativeLibraryResolver : IImportResolver, IDisposable
{
    private readonly List<nint> _handles = [];

    public NativeLibraryResolver(params string[] libraries)
    {
        foreach (string library in libraries)
            _handles.Add(NativeLibrary.Load(library));
    }

    public bool TryResolve(in ImportRequest import, out nint address)
    {
        foreach (nint handle in _handles)
            if (NativeLibrary.TryGetExport(handle, import.Name, out address)) return true;
        address = 0;
        return false;
    }

    public void Dispose()
    {
        // Loaded code may still point into the libraries; like ld.so, never unload them under it.
        _handles.Clear();
    }
}

/// <summary>Tries several resolvers in order.</summary>
public sealed class ChainedResolver(params IImportResolver[] resolvers) : IImportResolver
{
    public bool TryResolve(in ImportRequest import, out nint address)
    {
        foreach (IImportResolver r in resolvers)
            if (r.TryResolve(import, out address)) return true;
        address = 0;
        return false;
    }
}
