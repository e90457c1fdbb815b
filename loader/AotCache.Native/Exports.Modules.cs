using System.Runtime.InteropServices;
using AotCache.Format;

namespace AotCache.Native;

public static partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "aotcache_module_unload")]
    public static int ModuleUnload(nint module) => Boundary.Run(() =>
    {
        NativeModule m = HandleTable.Get<NativeModule>(module, "module");
        m.Unload(); // refuses (Busy) while a thread is inside; the handle stays valid then
        HandleTable.Remove<NativeModule>(module, "module");
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_module_lookup")]
    public static int ModuleLookup(nint module, nint name, nint expectedSignature, nuint expectedSignatureSize, nint address) => Boundary.Run(() =>
    {
        NativeModule m = HandleTable.Get<NativeModule>(module, "module");
        string function = CArgs.String(name, "name");
        Signature expected = CArgs.Signature(expectedSignature, expectedSignatureSize, "expected_signature");
        CArgs.CheckOut(address, "address");
        lock (m.Gate)
        {
            m.CheckLoaded();
            Signature actual;
            try
            {
                actual = m.Module.GetSignature(function);
            }
            catch (AotCacheException e)
            {
                throw NativeFailure.From(e, Status.Refused);
            }
            if (!actual.Equals(expected)) throw Mismatch(function, actual, expected);
            nint found;
            try
            {
                found = m.Module.GetFunctionPointer(function, expected);
            }
            catch (InvalidOperationException)
            {
                // Redefined with another signature by a concurrent commit since the check above.
                throw Mismatch(function, m.Module.GetSignature(function), expected);
            }
            CArgs.WritePointer(address, found, "address");
        }
        return Status.Ok;
    });

    private static NativeFailure Mismatch(string function, Signature actual, Signature expected) =>
        new(Status.SignatureMismatch, $"function '{function}' is {actual} (encoding {Hex(actual)}), not the expected {expected} (encoding {Hex(expected)})");

    private static string Hex(Signature s) => Convert.ToHexStringLower(s.Encoding.AsSpan());

    [UnmanagedCallersOnly(EntryPoint = "aotcache_module_enter")]
    public static int ModuleEnter(nint module) => Boundary.Run(() =>
    {
        HandleTable.Get<NativeModule>(module, "module").Enter();
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_module_leave")]
    public static int ModuleLeave(nint module) => Boundary.Run(() =>
    {
        HandleTable.Get<NativeModule>(module, "module").Leave();
        return Status.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "aotcache_module_call")]
    public static int ModuleCall(nint module, nint name, nint args, nuint argCount, nint result) => Boundary.Run(() =>
    {
        NativeModule m = HandleTable.Get<NativeModule>(module, "module");
        string function = CArgs.String(name, "name");
        Loader.Value[] values = CArgs.Values(args, argCount, "args");
        CArgs.CheckOut(result, "result");
        CArgs.WriteValue(result, m.Call(function, values), "result");
        return Status.Ok;
    });
}
