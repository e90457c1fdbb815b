using System.Security.Cryptography;
using AotCache.ConformanceTests.Vectors;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Native;

/// <summary>
/// libaotcache through its C ABI: a C program (conformance-tests/c/abi_test.c), compiled with gcc against aotcache.h
/// and the NativeAOT library, loads files these tests write and prints what every call returned. Each failure must
/// come back as a status with the spec's error code, offset and requirement, and a message; none may crash.
/// </summary>
[Collection(NativeCollection.Name)]
public sealed class CAbiTests(NativeToolchain native)
{
    private static readonly Signature NoneToI64 = Signature.SysV([], [ScalarType.I64]);
    private static readonly Signature I64ToI64 = Signature.SysV([ScalarType.I64], [ScalarType.I64]);
    private static readonly Signature F64ToI64 = Signature.SysV([ScalarType.F64], [ScalarType.I64]);
    private static readonly byte[] Return7 = [0xB8, 0x07, 0x00, 0x00, 0x00, 0xC3];                 // mov eax, 7; ret
    private static readonly byte[] Add1 = [0x48, 0x8D, 0x47, 0x01, 0xC3];                          // lea rax, [rdi+1]; ret
    private static readonly byte[] TailCall = [0xE9, 0, 0, 0, 0];                                  // jmp rel32
    private static readonly byte[] CallThenAdd1 = [0x48, 0x83, 0xEC, 0x08, 0xE8, 0, 0, 0, 0, 0x48, 0x83, 0xC4, 0x08, 0x48, 0xFF, 0xC0, 0xC3];
    // sub rsp, 8; mov edi, 41; call rel32 (field at 10); add rsp, 8; ret
    private static readonly byte[] Call41 = [0x48, 0x83, 0xEC, 0x08, 0xBF, 0x29, 0, 0, 0, 0xE8, 0, 0, 0, 0, 0x48, 0x83, 0xC4, 0x08, 0xC3];
    private static readonly byte[] ReadThroughSlot = [0x48, 0x8B, 0x05, 0, 0, 0, 0, 0x48, 0x8B, 0x00, 0xC3]; // mov rax, [rip+slot]; mov rax, [rax]; ret

    private static string Hex(Signature s) => Convert.ToHexStringLower(s.Encoding.AsSpan());

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(native.NewDirectory(name), name + ".aotc");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>add1(x) = x + 1 and main() = add1(41), exported; tick(i64) -> i64 imported (hotswap, unload, threads).</summary>
    private static byte[] SwapModule()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "swap" };
        b.AddImportFunction("tick", b.AddDeclaration(I64ToI64));
        var add1 = b.DeclareFunction("add1", b.AddDeclaration(I64ToI64));
        var main = b.DeclareFunction("main", b.AddDeclaration(NoneToI64));
        b.DefineFunction(add1, new FunctionBody(Add1, I64ToI64));
        b.DefineFunction(main, new FunctionBody(Call41, NoneToI64, [new Relocation(10, RelocationKind.FunctionPcRel32, "add1", -4)]));
        return b.ToArray();
    }

    // sub rsp, 8; call rel32 (field at 5); add rsp, 8; mov rdi, rax; jmp rel32 (field at 17)
    private static readonly byte[] CallThenTailCall = [0x48, 0x83, 0xEC, 0x08, 0xE8, 0, 0, 0, 0, 0x48, 0x83, 0xC4, 0x08, 0x48, 0x89, 0xC7, 0xE9, 0, 0, 0, 0];
    // mov edi, 5; sub rsp, 8; call rel32 (field at 10); add rsp, 8; add rax, 1; ret
    private static readonly byte[] Call5ThenAdd1 = [0xBF, 0x05, 0, 0, 0, 0x48, 0x83, 0xEC, 0x08, 0xE8, 0, 0, 0, 0, 0x48, 0x83, 0xC4, 0x08, 0x48, 0x83, 0xC0, 0x01, 0xC3];

    /// <summary>leaf() = 7; caller() = leaf() + 1 compiled against leaf as (i64) -> i64 (stale); outer() = caller() + 1;
    /// outer_then_tick() = tick(caller()); via_host() = reenter(5) + 1; hidden() = 7, local. Imports tick and reenter,
    /// both (i64) -> i64: the C tests pass <see cref="StaleImports"/>.</summary>
    private static byte[] StaleModule()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "stale" };
        b.AddImportFunction("tick", b.AddDeclaration(I64ToI64));
        b.AddImportFunction("reenter", b.AddDeclaration(I64ToI64));
        b.AddFunction("leaf", new FunctionBody(Return7, NoneToI64));
        b.AddFunction("caller", new FunctionBody(CallThenAdd1, NoneToI64, [new Relocation(5, RelocationKind.FunctionPcRel32, "leaf", -4, I64ToI64.Hash)]));
        b.AddFunction("outer", new FunctionBody(CallThenAdd1, NoneToI64, [new Relocation(5, RelocationKind.FunctionPcRel32, "caller", -4)]));
        b.AddFunction("outer_then_tick", new FunctionBody(CallThenTailCall, NoneToI64,
            [new Relocation(5, RelocationKind.FunctionPcRel32, "caller", -4), new Relocation(17, RelocationKind.ThunkPcRel32, "tick", -4)]));
        b.AddFunction("via_host", new FunctionBody(Call5ThenAdd1, NoneToI64, [new Relocation(10, RelocationKind.ThunkPcRel32, "reenter", -4)]));
        b.AddFunction("hidden", new FunctionBody(Return7, NoneToI64), Linkage.Local);
        return b.ToArray();
    }

    /// <summary>The stale module's imports: tick is the C test's host_add1 (it counts its calls), reenter its
    /// host_reenter, which calls the module's outer through aotcache_module_call from inside a call.</summary>
    private static readonly string[] StaleImports = ["--import", $"tick:{Hex(I64ToI64)}", "--import-reenter", "reenter:outer"];

    /// <summary>use_tick(x) = tick(x), use_missing(x) = host_missing(x), read_value() = *host_value.</summary>
    private static byte[] ImportModule()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "imports" };
        b.AddImportFunction("tick", b.AddDeclaration(I64ToI64));
        b.AddImportFunction("host_missing", b.AddDeclaration(I64ToI64));
        b.AddImportData("host_value");
        b.AddFunction("use_tick", new FunctionBody(TailCall, I64ToI64, [new Relocation(1, RelocationKind.ThunkPcRel32, "tick", -4)]));
        b.AddFunction("use_missing", new FunctionBody(TailCall, I64ToI64, [new Relocation(1, RelocationKind.ThunkPcRel32, "host_missing", -4)]));
        b.AddFunction("read_value", new FunctionBody(ReadThroughSlot, NoneToI64, [new Relocation(3, RelocationKind.SlotPcRel32, "host_value", -4)]));
        return b.ToArray();
    }

    [Fact]
    public void The_header_layout_the_ABI_version_and_the_first_last_error()
    {
        AbiRun run = AbiRun.Of(native, "layout");
        Assert.Equal(1, run.Succeeded("abi-version"));
        Assert.Equal(run.Succeeded("header-abi-version"), run.Succeeded("abi-version"));
        Assert.Equal((long)I64ToI64.Hash, run.Succeeded("signature-hash")); // 0xdbaf7e9886e7f093, FORMAT.md §6.2
        run.Succeeded("last-error-before-any-failure");
        Assert.Contains("fresh-error status=0 code=0 offset=-1 requirement=[] message=[]", run.Output);
    }

    [Fact]
    public void Every_spec_vector_opens_or_fails_with_its_error_code_offset_and_requirement()
    {
        var vectors = VectorFile.All().Select(VectorFile.Load).ToList();
        string directory = native.NewDirectory("vectors");
        var paths = new Dictionary<string, VectorFile>();
        foreach (VectorFile v in vectors)
        {
            string file = Path.GetFileNameWithoutExtension(v.Name) + "-" + paths.Count + ".aotc";
            File.WriteAllBytes(Path.Combine(directory, file), v.Bytes);
            paths[file] = v;
        }
        // One run per signature policy; most vectors have none. Full validation: vectors state what cachedump --verify sees.
        foreach (var group in paths.GroupBy(p => (p.Value.RequireSignature, Keys: string.Join(",", p.Value.TrustedHmacKeys.Select(k => k.Name + ":" + Convert.ToHexStringLower(k.Secret))))))
        {
            var arguments = new List<string> { "validate", "--full" };
            if (group.Key.RequireSignature) arguments.Add("--require-signature");
            foreach (string key in group.Key.Keys.Split(',', StringSplitOptions.RemoveEmptyEntries)) arguments.AddRange(["--hmac", key]);
            arguments.AddRange(group.Select(p => Path.Combine(directory, p.Key)));
            AbiRun run = AbiRun.Of(native, [.. arguments]);
            foreach (var (file, vector) in group)
            {
                if (vector.ExpectValid)
                {
                    using CacheImage image = CacheImage.Read(vector.Bytes, ReadOptions.Full with { Signatures = null });
                    Assert.True(run[file].Status == AbiRun.Ok, $"{vector.Name}: a valid vector failed: {run[file]}");
                    Assert.Equal(image.Functions.Length, run[file].Value);
                    continue;
                }
                AbiStep s = run.Failed(file, AbiRun.Malformed, vector.ErrorNumber, vector.Requirements.Single(), vector.ErrorOffset);
                Assert.Contains($"{vector.ErrorCode} ({vector.ErrorNumber})", s.Message);
            }
        }
        Assert.Contains(vectors, v => !v.ExpectValid && v.RequireSignature);
    }

    [Fact]
    public void LOAD_5_strict_a_stale_caller_refuses_the_load_at_its_relocation_record()
    {
        byte[] bytes = StaleModule();
        using var image = CacheImage.Read(bytes);
        int caller = image.FindFunction("caller");
        long relocation = image.SectionOffset(SectionKind.Relocations) + (long)image.Functions[caller].FirstRelocation * RelocationRecord.RecordSize;
        AbiRun run = AbiRun.Of(native, ["load", .. StaleImports, Write("stale", bytes), "--call", $"leaf:{Hex(NoneToI64)}"]);
        AbiStep s = run.Failed("load", AbiRun.Unloadable, (int)ErrorCode.StaleCaller, "LOAD-5", relocation);
        Assert.Contains("caller refers to leaf", s.Message);
        Assert.Contains("sysv () -> i64", s.Message);
    }

    [Fact]
    public void LOAD_5_lenient_the_rest_loads_and_a_call_that_reaches_a_stale_function_is_abandoned_there_as_an_error()
    {
        string none = Hex(NoneToI64);
        AbiRun run = AbiRun.Of(native, ["load", "--lenient", .. StaleImports, Write("stale", StaleModule()),
            "--call", $"leaf:{none}", "--call", $"caller:{none}", "--call", $"outer:{none}", "--call", $"outer_then_tick:{none}", "--call", $"via_host:{none}"]);
        run.Succeeded("load");
        Assert.Equal(7, run.Succeeded("call-leaf"));
        // The stale function itself: refused at load, for lookups and calls alike.
        Assert.Contains("caller refers to leaf", run.Failed("lookup-caller", AbiRun.Refused, (int)ErrorCode.StaleCaller, "LOAD-5").Message);
        Assert.Contains("'caller' was refused at load", run.Failed("call-caller", AbiRun.Refused, (int)ErrorCode.StaleCaller, "LOAD-5").Message);
        // outer loads (it is current) and calls the stale caller: the call stops at the refusal and comes back as an
        // error naming caller, not as a made-up result and not as a crash.
        run.Succeeded("lookup-outer");
        Assert.Contains("refused function 'caller'", run.Failed("call-outer", AbiRun.Refused, (int)ErrorCode.StaleCaller, "LOAD-5", -1).Message);
        // Nothing of the caller runs after the refused call: outer_then_tick would pass caller's result to tick next.
        Assert.Contains("refused function 'caller'", run.Failed("call-outer_then_tick", AbiRun.Refused, (int)ErrorCode.StaleCaller, "LOAD-5").Message);
        Assert.Equal(0, run.Succeeded("host-add1-calls"));
        // Entries nest: via_host calls the host, whose own call into outer is refused; that inner call comes back to the
        // host function (the innermost entry), which returns 5 + 100, and via_host goes on to return 106.
        Assert.Contains("refused function 'caller'", run.Failed("reenter-outer", AbiRun.Refused, (int)ErrorCode.StaleCaller, "LOAD-5").Message);
        Assert.Equal(106, run.Succeeded("call-via_host"));
        run.Succeeded("unload");
    }

    [Fact]
    public void LOAD_5_lenient_a_raw_call_that_reaches_a_stale_function_ends_the_process_naming_it()
    {
        // A raw function pointer has no entry to come back to (aotcache.h, aotcache_module_lookup): the process ends,
        // naming the function, rather than running outer on a made-up result.
        string none = Hex(NoneToI64);
        ChildProcess.Result result = ChildProcess.Run(native.AbiTest, ["load", "--lenient", .. StaleImports, Write("stale", StaleModule()),
            "--raw-call", $"leaf:{none}", "--raw-call", $"outer:{none}"], TimeSpan.FromMinutes(2));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("call-leaf status=0 value=7", result.Stdout);
        Assert.Contains("lookup-outer status=0", result.Stdout);
        Assert.DoesNotContain("call-outer", result.Stdout);
        Assert.Contains("refused function 'caller'", result.Stderr);
        Assert.Contains("raw function pointer", result.Stderr);
    }

    [Fact]
    public void Calls_through_the_library_check_arguments_follow_hot_swaps_and_keep_the_module_loaded()
    {
        AbiRun run = AbiRun.Of(native, "calls", Write("swap", SwapModule()));
        run.Succeeded("load");
        Assert.Equal(42, run.Succeeded("call-main"));
        Assert.Equal(6, run.Succeeded("call-add1"));
        Assert.Contains("must be i64, not i32", run.Failed("call-add1-i32", AbiRun.InvalidArgument).Message);
        Assert.Contains("1 arguments expected, 0 given", run.Failed("call-add1-no-argument", AbiRun.InvalidArgument).Message);
        Assert.Contains("1 arguments expected, 2 given", run.Failed("call-add1-two-arguments", AbiRun.InvalidArgument).Message);
        Assert.Contains("type 9 is not an aotcache_type", run.Failed("call-add1-bad-type", AbiRun.InvalidArgument).Message);
        Assert.Contains("reserved must be zero", run.Failed("call-add1-reserved", AbiRun.InvalidArgument).Message);
        Assert.Contains("args is NULL", run.Failed("call-add1-null-args", AbiRun.InvalidArgument).Message);
        Assert.Contains("result is NULL", run.Failed("call-add1-null-result", AbiRun.InvalidArgument).Message);
        Assert.Contains("no_such_function", run.Failed("call-missing", AbiRun.NotFound).Message);
        run.Succeeded("commit");
        // add1 now tail-calls tick, the host function that tries to unload the module from inside the call: refused.
        Assert.Contains("1 thread is between", run.Failed("unload-during-call", AbiRun.Busy).Message);
        Assert.Equal(42, run.Succeeded("call-main-after-update"));
        run.Succeeded("unload");
        Assert.Contains("not a live aotcache_module handle", run.Failed("call-after-unload", AbiRun.InvalidArgument).Message);
    }

    [Fact]
    public void Imports_by_address_and_signature_are_called_and_data_imports_read()
    {
        AbiRun run = AbiRun.Of(native, "load", "--import", $"tick:{Hex(I64ToI64)}", "--import", $"host_missing:{Hex(I64ToI64)}",
            "--import-data", "host_value", Write("imports", ImportModule()),
            "--call", $"use_tick:{Hex(I64ToI64)}:41", "--call", $"read_value:{Hex(NoneToI64)}");
        run.Succeeded("load");
        Assert.Equal(42, run.Succeeded("call-use_tick"));      // host_add1(41)
        Assert.Equal(0x1234, run.Succeeded("call-read_value")); // host_data
    }

    [Fact]
    public void LOAD_4_an_unresolved_import_fails_the_load_naming_it_with_its_signature()
    {
        AbiRun run = AbiRun.Of(native, "load", "--import", $"tick:{Hex(I64ToI64)}", "--import-data", "host_value", Write("imports", ImportModule()));
        AbiStep s = run.Failed("load", AbiRun.Unloadable, (int)ErrorCode.UnresolvedImports, "LOAD-4", -1);
        Assert.Contains("host_missing: sysv (i64) -> i64", s.Message);
        Assert.DoesNotContain("tick", s.Message);
    }

    [Fact]
    public void LOAD_4_an_import_registered_with_another_signature_is_a_signature_mismatch_naming_both()
    {
        AbiRun run = AbiRun.Of(native, "load", "--import", $"tick:{Hex(F64ToI64)}", "--import", $"host_missing:{Hex(I64ToI64)}",
            "--import-data", "host_value", Write("imports", ImportModule()));
        AbiStep s = run.Failed("load", AbiRun.SignatureMismatch, (int)ErrorCode.UnresolvedImports, "LOAD-4", -1);
        Assert.Contains("signature mismatch", s.Message);
        Assert.Contains("'tick' was registered as sysv (f64) -> i64", s.Message);
        Assert.Contains("the file declares sysv (i64) -> i64", s.Message);

        // A data import registered as a function is a mismatch too.
        run = AbiRun.Of(native, "load", "--import", $"tick:{Hex(I64ToI64)}", "--import", $"host_missing:{Hex(I64ToI64)}",
            "--import", $"host_value:{Hex(NoneToI64)}", Write("imports", ImportModule()));
        Assert.Contains("the file imports it as data", run.Failed("load", AbiRun.SignatureMismatch, (int)ErrorCode.UnresolvedImports, "LOAD-4").Message);
    }

    [Fact]
    public void A_lookup_with_another_signature_names_both_and_names_that_are_not_exported_functions_are_not_found()
    {
        AbiRun run = AbiRun.Of(native, ["load", .. StaleImports, Write("stale", StaleModule()), "--lenient", "--lookup", $"leaf:{Hex(I64ToI64)}"]);
        AbiStep s = run.Failed("lookup-leaf", AbiRun.SignatureMismatch);
        Assert.Contains("function 'leaf' is sysv () -> i64 (encoding 01000102), not the expected sysv (i64) -> i64 (encoding 0101020102)", s.Message);
        run = AbiRun.Of(native, ["load", .. StaleImports, Write("stale", StaleModule()), "--lenient", "--lookup", $"no_such:{Hex(NoneToI64)}", "--lookup", $"hidden:{Hex(NoneToI64)}"]);
        Assert.Contains("no_such", run.Failed("lookup-no_such", AbiRun.NotFound).Message);
        Assert.Contains("not exported", run.Failed("lookup-hidden", AbiRun.NotFound).Message);
        run = AbiRun.Of(native, ["load", .. StaleImports, Write("stale", StaleModule()), "--lenient", "--lookup", "leaf:0100020202"]); // two results
        Assert.Contains("[SIG-1]", run.Failed("lookup-leaf", AbiRun.InvalidArgument).Message);
    }

    private static readonly byte[] Secret = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    private static byte[] Signed(SigningKey? key)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { SigningKey = key, ModuleName = "signed" };
        b.AddFunction("seven", new FunctionBody(Return7, NoneToI64));
        return b.ToArray();
    }

    private static long ExpectedOffset(byte[] file, ReadOptions options) =>
        Assert.Throws<AotCacheException>(() => CacheImage.Read(file, options)).Offset;

    [Fact]
    public void AUTH_a_signature_policy_with_HMAC_and_ECDSA_keys_refuses_unsigned_untrusted_and_wrongly_keyed_files()
    {
        using ECDsa signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using ECDsa stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string directory = native.NewDirectory("signatures");
        string Key(string name, ECDsa key)
        {
            string path = Path.Combine(directory, name + ".der");
            File.WriteAllBytes(path, key.ExportSubjectPublicKeyInfo());
            return path;
        }
        string signerKey = Key("signer", signer), strangerKey = Key("stranger", stranger);
        byte[] unsigned = Signed(null), hmac = Signed(SigningKey.Hmac("ci-key", Secret)), otherName = Signed(SigningKey.Hmac("someone-else", Secret));
        byte[] wrongSecret = Signed(SigningKey.Hmac("ci-key", [.. Secret.Reverse()])), ecdsa = Signed(SigningKey.Ecdsa(signer));
        string Save(string name, byte[] bytes)
        {
            string path = Path.Combine(directory, name + ".aotc");
            File.WriteAllBytes(path, bytes);
            return path;
        }
        string secret = "ci-key:" + Convert.ToHexStringLower(Secret);
        var policy = new ReadOptions { Signatures = new SignaturePolicy { TrustedKeys = [VerificationKey.Hmac("ci-key", Secret)] } };

        AbiRun run = AbiRun.Of(native, "validate", "--require-signature", "--hmac", secret, "--ecdsa", signerKey,
            Save("unsigned", unsigned), Save("hmac", hmac), Save("other-name", otherName), Save("wrong-secret", wrongSecret), Save("ecdsa", ecdsa));
        Assert.Contains("not signed", run.Failed("unsigned.aotc", AbiRun.Malformed, (int)ErrorCode.SignatureMissing, "AUTH-3", 0).Message);
        Assert.Equal(1, run.Succeeded("hmac.aotc"));
        Assert.Contains("not trusted", run.Failed("other-name.aotc", AbiRun.Malformed, (int)ErrorCode.SignatureInvalid, "AUTH-2", ExpectedOffset(otherName, policy)).Message);
        Assert.Contains("modified after signing", run.Failed("wrong-secret.aotc", AbiRun.Malformed, (int)ErrorCode.SignatureInvalid, "AUTH-2", ExpectedOffset(wrongSecret, policy)).Message);
        Assert.Equal(1, run.Succeeded("ecdsa.aotc"));

        // Another ECDSA key trusted: the signer's file is refused. Without a policy, any well-formed signature is only checked for shape.
        run = AbiRun.Of(native, "validate", "--ecdsa", strangerKey, Save("ecdsa-2", ecdsa), Save("unsigned-2", unsigned));
        run.Failed("ecdsa-2.aotc", AbiRun.Malformed, (int)ErrorCode.SignatureInvalid, "AUTH-2");
        run.Succeeded("unsigned-2.aotc"); // a key trusted without --require-signature: unsigned files still open
        run = AbiRun.Of(native, "validate", Save("ecdsa-3", ecdsa), Save("other-name-3", otherName));
        run.Succeeded("ecdsa-3.aotc");
        run.Succeeded("other-name-3.aotc");

        // The policy applies when a module is loaded straight from the file too.
        run = AbiRun.Of(native, "load", "--require-signature", "--hmac", secret, Save("unsigned-4", unsigned));
        run.Failed("load", AbiRun.Malformed, (int)ErrorCode.SignatureMissing, "AUTH-3", 0);
    }

    [Fact]
    public void Hot_swap_redefines_functions_with_code_relocations_and_dependencies_and_refuses_stale_updates_whole()
    {
        AbiRun run = AbiRun.Of(native, "hotswap", Write("swap", SwapModule()));
        run.Succeeded("load");
        Assert.Equal(42, run.Succeeded("main-before"));
        run.Succeeded("commit-1");
        Assert.Equal(43, run.Succeeded("main-after-add2"));        // the new body, reached through main's unchanged call
        run.Succeeded("commit-2");
        Assert.Equal(42, run.Succeeded("main-after-tail-call"));   // add1 now tail-calls the import tick (host_add1), by name
        run.Succeeded("commit-3");
        Assert.Equal(7, run.Succeeded("call-inline-add1"));

        AbiStep refused = run.Failed("commit-4", AbiRun.Stale, (int)ErrorCode.StaleCaller, "LOAD-5", -1);
        Assert.Contains("main", refused.Message);        // called add1 as (i64) -> i64
        Assert.Contains("inline_add1", refused.Message); // depended on add1's content 0x11
        Assert.Equal(42, run.Succeeded("main-after-refused")); // nothing changed
        Assert.Contains("main", run.Failed("commit-5", AbiRun.Stale, (int)ErrorCode.StaleCaller, "LOAD-5").Message);
        run.Failed("commit-again", AbiRun.InvalidArgument);

        Assert.Contains("[REL-1]", run.Failed("redefine-bad-kind", AbiRun.InvalidArgument).Message);
        Assert.Contains("REL-3", run.Failed("redefine-field-outside", AbiRun.InvalidArgument).Message);
        Assert.Contains("[SIG-1]", run.Failed("redefine-bad-signature", AbiRun.InvalidArgument).Message);
        Assert.Contains("[FUN-5]", run.Failed("redefine-empty-code", AbiRun.InvalidArgument).Message);
        Assert.Contains("FUN-3", run.Failed("redefine-bad-alignment", AbiRun.InvalidArgument).Message);
        Assert.Contains("no_such_function", run.Failed("redefine-missing", AbiRun.NotFound).Message);
        Assert.Contains("'main'", run.Failed("add-existing", AbiRun.InvalidArgument).Message);
        run.Succeeded("abandon");
        Assert.Equal(42, run.Succeeded("main-at-end"));
        run.Succeeded("unload");

        run.Succeeded("load-direct");
        Assert.Contains("LinkMode.HotSwappable", run.Failed("begin-direct", AbiRun.InvalidState).Message);
        run.Succeeded("unload-direct");
    }

    [Fact]
    public void Unload_is_refused_while_a_thread_is_inside_the_code_and_unmaps_it_when_none_is()
    {
        AbiRun run = AbiRun.Of(native, "unload", Write("swap", SwapModule()));
        run.Succeeded("open");
        run.Succeeded("load");
        run.Succeeded("close-image-while-loaded");
        Assert.Equal(1, run.Succeeded("mapped-before"));
        Assert.Equal(42, run.Succeeded("call"));
        Assert.Contains("1 thread is between", run.Failed("unload-inside", AbiRun.Busy).Message);
        run.Succeeded("leave-nested");
        run.Failed("unload-still-inside", AbiRun.Busy);
        run.Succeeded("leave");
        run.Failed("leave-without-enter", AbiRun.InvalidState);
        Assert.Equal(42, run.Succeeded("call-after-refusals"));
        run.Succeeded("unload");
        Assert.Equal(0, run.Succeeded("mapped-after")); // the code is unmapped (the image handle was closed before)
        Assert.Contains("not a live aotcache_module handle", run.Failed("lookup-after-unload", AbiRun.InvalidArgument).Message);
        run.Failed("unload-again", AbiRun.InvalidArgument);
        run.Failed("image-close-again", AbiRun.InvalidArgument);
    }

    [Fact]
    public void Misuse_NULL_and_dead_handles_and_bad_values_are_statuses_with_messages_never_crashes()
    {
        AbiRun run = AbiRun.Of(native, "misuse");
        foreach (string step in new[]
        {
            "last-error-null", "abi-version-null", "options-create-null", "options-destroy-null", "options-set-null", "link-mode-7",
            "stale-policy-7", "validation-7", "import-null-name", "import-null-address", "import-malformed-signature",
            "import-signature-null-bytes", "hmac-empty-secret", "ecdsa-not-der", "fingerprint-empty-key", "signature-hash-malformed",
            "image-open-null-path", "image-open-null-out", "load-null-image", "load-options-as-image", "load-made-up-handle",
            "lookup-null-module", "enter-null", "unload-null", "update-begin-null", "update-commit-null", "update-redefine-null",
            "call-null-module", "options-destroy-again", "options-use-after-destroy",
        })
            run.Failed(step, AbiRun.InvalidArgument);
        Assert.Contains("is NULL", run["load-null-image"].Message);
        Assert.Contains("not a live aotcache_image handle", run["load-options-as-image"].Message);
        run.Failed("image-open-missing-file", AbiRun.Io);
        run.Failed("image-open-directory", AbiRun.Io);
        run.Succeeded("options-create");
        run.Succeeded("options-destroy");
    }

    [Fact]
    public void Calls_on_four_threads_during_200_commits_see_whole_bodies_and_each_thread_keeps_its_own_last_error()
    {
        AbiRun run = AbiRun.Of(native, "threads", Write("swap", SwapModule()));
        Assert.Equal(200, run.Succeeded("commits"));
        Assert.Equal(0, run.Succeeded("refused-commits"));
        Assert.Equal(1, run.Succeeded("calls-made"));
        Assert.Equal(0, run.Succeeded("wrong-results"));       // 42 or 43, never anything in between
        Assert.Equal(0, run.Succeeded("foreign-last-errors")); // each thread's last error names its own lookup
        run.Succeeded("unload");
    }
}
