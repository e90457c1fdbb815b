using System.Runtime.InteropServices;
using AotCache.Loader;

namespace AotCache.Native;

public static partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "aotcache_options_create")]
    public static int OptionsCreate(nint options) => Boundary.Run(() =>
    {
        CArgs.CheckOut(options, "options");
        CArgs.WritePointer(options, HandleTable.Add(new NativeOptions()), "options");
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_options_destroy")]
    public static int OptionsDestroy(nint options) => Boundary.Run(() =>
    {
        HandleTable.Remove<NativeOptions>(options, "options");
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_options_set_validation")]
    public static int OptionsSetValidation(nint options, int validation) =>
        Boundary.Run(() => Set(options, o => o.SetValidation(validation)));

    [UnmanagedCallersOnly(EntryPoint = "aotcache_options_set_stale_policy")]
    public static int OptionsSetStalePolicy(nint options, int policy) =>
        Boundary.Run(() => Set(options, o => o.SetStalePolicy(policy)));

    [UnmanagedCallersOnly(EntryPoint = "aotcache_options_set_link_mode")]
    public static int OptionsSetLinkMode(nint options, int mode) =>
        Boundary.Run(() => Set(options, o => o.SetLinkMode(mode)));

    [UnmanagedCallersOnly(EntryPoint = "aotcache_options_require_signature")]
    public static int OptionsRequireSignature(nint options, int required) =>
        Boundary.Run(() => Set(options, o => o.RequireSignature(required != 0)));

    [UnmanagedCallersOnly(EntryPoint = "aotcache_options_trust_hmac_key")]
    public static int OptionsTrustHmacKey(nint options, nint name, nint secret, nuint secretSize) => Boundary.Run(() =>
    {
        NativeOptions o = HandleTable.Get<NativeOptions>(options, "options");
        o.TrustHmacKey(CArgs.String(name, "name"), CArgs.Bytes(secret, secretSize, "secret"));
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_options_trust_ecdsa_key")]
    public static int OptionsTrustEcdsaKey(nint options, nint publicKeyDer, nuint size) => Boundary.Run(() =>
    {
        NativeOptions o = HandleTable.Get<NativeOptions>(options, "options");
        o.TrustEcdsaKey(CArgs.Bytes(publicKeyDer, size, "public_key_der"));
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_options_set_fingerprint_string")]
    public static int OptionsSetFingerprintString(nint options, nint key, nint value) => Boundary.Run(() =>
        Set(options, o => o.SetFingerprint(CArgs.String(key, "key"), FingerprintValue.String(CArgs.String(value, "value")))));

    [UnmanagedCallersOnly(EntryPoint = "aotcache_options_set_fingerprint_integer")]
    public static int OptionsSetFingerprintInteger(nint options, nint key, ulong value) => Boundary.Run(() =>
        Set(options, o => o.SetFingerprint(CArgs.String(key, "key"), FingerprintValue.Integer(value))));

    [UnmanagedCallersOnly(EntryPoint = "aotcache_options_set_fingerprint_features")]
    public static int OptionsSetFingerprintFeatures(nint options, nint key, ulong features) => Boundary.Run(() =>
        Set(options, o => o.SetFingerprint(CArgs.String(key, "key"), FingerprintValue.Features(features))));

    [UnmanagedCallersOnly(EntryPoint = "aotcache_options_add_import")]
    public static int OptionsAddImport(nint options, nint name, nint address, nint signature, nuint signatureSize) => Boundary.Run(() =>
        Set(options, o => o.AddImport(CArgs.String(name, "name"), address, CArgs.OptionalSignature(signature, signatureSize, "signature"))));

    private static Status Set(nint options, Action<NativeOptions> change)
    {
        change(HandleTable.Get<NativeOptions>(options, "options"));
        return Status.Ok;
    }

    /// <summary>The options behind a handle, or the defaults for NULL.</summary>
    private static NativeOptions OptionsOrDefaults(nint options) =>
        options == 0 ? NativeOptions.Defaults : HandleTable.Get<NativeOptions>(options, "options");
}
