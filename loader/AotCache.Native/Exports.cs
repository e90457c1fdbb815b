using System.Runtime.InteropServices;
using AotCache.Format;

namespace AotCache.Native;

/// <summary>
/// The exports of libaotcache: one <c>[UnmanagedCallersOnly]</c> method per function of aotcache.h, in the order the
/// header declares them (this file: errors and helpers; Exports.Options.cs, Exports.Images.cs, Exports.Modules.cs,
/// Exports.Updates.cs: the rest). Each runs inside <see cref="Boundary.Run"/>: a status comes back, never an exception.
/// C pointers are <see cref="nint"/>, <c>size_t</c> is <see cref="nuint"/>.
/// </summary>
public static partial class Exports
{
    /// <summary>Changes whenever aotcache.h changes incompatibly (its AOTCACHE_ABI_VERSION).</summary>
    public const uint AbiVersion = 1;

    [UnmanagedCallersOnly(EntryPoint = "aotcache_last_error")]
    public static int LastErrorOf(nint error) => Boundary.Run(() =>
    {
        CArgs.CheckOut(error, "error");
        LastError.CopyTo(error);
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_abi_version")]
    public static int AbiVersionOf(nint version) => Boundary.Run(() =>
    {
        CArgs.WriteUInt32(version, AbiVersion, "version");
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_signature_hash")]
    public static int SignatureHash(nint signature, nuint signatureSize, nint hash) => Boundary.Run(() =>
    {
        Signature decoded = CArgs.Signature(signature, signatureSize, "signature");
        CArgs.WriteUInt64(hash, decoded.Hash, "hash");
        return Status.Ok;
    });
}
