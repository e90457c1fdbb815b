using System.Runtime.InteropServices;
using AotCache.ConformanceTests.Malformed;
using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Loading;

/// <summary>
/// Prelinked files (FORMAT.md §16.2, [REL-10]) and code mapped straight from the file (§16.3): the canonical layout's
/// values in the file, refused when they disagree, the same running code either way, pages shared with the page cache,
/// and a running module that no later write of the file can change.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PrelinkTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("aotc-prelink-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static readonly Signature I64ToI64 = Signature.SysV([ScalarType.I64], [ScalarType.I64]);

    /// <summary>Every relocation kind from code: a call (FunctionPcRel32), a host call through its thunk
    /// (ThunkPcRel32), one through a slot (SlotPcRel32), a slot of a defined function, RIP-relative data of all three
    /// data kinds (DataPcRel32), and an absolute address (Absolute64, which is never prelinked).</summary>
    private static byte[] EveryKind(bool prelink)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "every-kind", Prelink = prelink };
        var i64 = b.AddDeclaration(I64ToI64);
        b.AddImportFunction("host", i64);
        b.AddFunction("leaf", new FunctionBody([0x48, 0x8D, 0x47, 0x01, 0xC3], I64ToI64)); // lea rax, [rdi+1]; ret
        b.AddData("ro", DataKind.ReadOnly, BitConverter.GetBytes(100L));
        b.AddData("rw", DataKind.Writable, BitConverter.GetBytes(20L));
        b.DeclareData("zf", DataKind.ZeroFilled);
        b.DefineZeroFilled(b.TryGetHandle("zf", out SymbolHandle zf) ? zf : default, 8);
        // f(x) = leaf(x) + host(x) + slot(leaf)(x) + ro + rw + zf, with an Absolute64 of ro thrown in.
        byte[] code =
        [
            0x53,                                     // 00 push rbx
            0x41, 0x54,                               // 01 push r12
            0x41, 0x55,                               // 03 push r13 (three pushes: rsp 16-byte aligned at the calls)
            0x48, 0x89, 0xFB,                         // 05 mov rbx, rdi
            0xE8, 0, 0, 0, 0,                         // 08 call leaf                      FunctionPcRel32 @09
            0x49, 0x89, 0xC4,                         // 0d mov r12, rax
            0x48, 0x89, 0xDF,                         // 10 mov rdi, rbx
            0xE8, 0, 0, 0, 0,                         // 13 call host (thunk)              ThunkPcRel32 @14
            0x49, 0x01, 0xC4,                         // 18 add r12, rax
            0x48, 0x89, 0xDF,                         // 1b mov rdi, rbx
            0xFF, 0x15, 0, 0, 0, 0,                   // 1e call [rip + slot(host)]        SlotPcRel32 @20
            0x49, 0x01, 0xC4,                         // 24 add r12, rax
            0x48, 0x89, 0xDF,                         // 27 mov rdi, rbx
            0xFF, 0x15, 0, 0, 0, 0,                   // 2a call [rip + slot(leaf)]        SlotPcRel32 @2c
            0x49, 0x01, 0xC4,                         // 30 add r12, rax
            0x4C, 0x03, 0x25, 0, 0, 0, 0,             // 33 add r12, [rip + ro]            DataPcRel32 @36
            0x4C, 0x03, 0x25, 0, 0, 0, 0,             // 3a add r12, [rip + rw]            DataPcRel32 @3d
            0x4C, 0x03, 0x25, 0, 0, 0, 0,             // 41 add r12, [rip + zf]            DataPcRel32 @44
            0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0,       // 48 mov rax, &ro                   Absolute64 @4a
            0x4C, 0x03, 0x20,                         // 52 add r12, [rax]
            0x4C, 0x89, 0xE0,                         // 55 mov rax, r12
            0x41, 0x5D,                               // 58 pop r13
            0x41, 0x5C,                               // 5a pop r12
            0x5B,                                     // 5c pop rbx
            0xC3,                                     // 5d ret
        ];
        b.AddFunction("f", new FunctionBody(code, I64ToI64,
        [
            new Relocation(0x09, RelocationKind.FunctionPcRel32, "leaf", -4),
            new Relocation(0x14, RelocationKind.ThunkPcRel32, "host", -4),
            new Relocation(0x20, RelocationKind.SlotPcRel32, "host", -4),
            new Relocation(0x2c, RelocationKind.SlotPcRel32, "leaf", -4),
            new Relocation(0x36, RelocationKind.DataPcRel32, "ro", -4),
            new Relocation(0x3d, RelocationKind.DataPcRel32, "rw", -4),
            new Relocation(0x44, RelocationKind.DataPcRel32, "zf", -4),
            new Relocation(0x4a, RelocationKind.Absolute64, "ro", 0),
        ]));
        // Filler after f, so that the code spans whole pages a loader can map from the file.
        byte[] filler = new byte[256];
        filler.AsSpan().Fill(0xCC);
        filler[0] = 0xC3;
        for (int i = 0; i < 40; i++) b.AddFunction($"pad{i}", new FunctionBody(filler, Signature.SysV([], [])));
        return b.ToArray();
    }

    private static LoadOptions Options(LinkMode mode = LinkMode.Direct) => new()
    {
        LinkMode = mode,
        Imports = new ImportTable().Add("host", HostCallbacks.TimesThreePointer, I64ToI64),
    };

    /// <summary>f(5) = leaf 6 + host 15 + host 15 + leaf 6 + ro 100 + rw 20 + zf 0 + ro 100.</summary>
    private const long Expected = 6 + 15 + 15 + 6 + 100 + 20 + 0 + 100;

    [Fact]
    public void REL_10_the_writer_stores_the_canonical_layouts_values_and_says_so()
    {
        using CacheImage prelinked = CacheImage.Read(EveryKind(prelink: true), ReadOptions.Full);
        using CacheImage plain = CacheImage.Read(EveryKind(prelink: false), ReadOptions.Full);
        Assert.True(prelinked.IsPrelinked);
        Assert.Equal(2, prelinked.Header.MinorVersion);
        Assert.False(plain.IsPrelinked);
        Assert.Equal(0, plain.Header.MinorVersion);
        // The two files differ only in the PC-relative fields of code (and what the header says about them).
        int f = prelinked.FindFunction("f");
        ReadOnlySpan<byte> a = prelinked.FunctionCode(prelinked.Functions[f]), b = plain.FunctionCode(plain.Functions[f]);
        var differing = new List<int>();
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) differing.Add(i);
        int[] pcRelativeFields = [0x09, 0x14, 0x20, 0x2c, 0x36, 0x3d, 0x44];
        Assert.All(differing, i => Assert.Contains(pcRelativeFields, field => i >= field && i < field + 4));
        Assert.All(pcRelativeFields, field => Assert.True(differing.Any(i => i >= field && i < field + 4), $"the field at +{field} was not prelinked"));
        // Each holds exactly the canonical layout's value.
        CanonicalLayout layout = prelinked.CanonicalLayout;
        foreach (RelocationRecord r in prelinked.RelocationsOf(prelinked.Functions[f]))
        {
            if (r.Kind == RelocationKind.Absolute64) continue;
            Assert.True(layout.TryPrelink(r, prelinked.Functions[f], prelinked.Symbols, prelinked.Functions, prelinked.DataObjects, out int value));
            Assert.Equal(value, BitConverter.ToInt32(a[(int)r.Offset..]));
        }
        // The bodies carried out of either file are the same body: fields are not part of it.
        Assert.Equal(plain.GetFunctionBody("f"), prelinked.GetFunctionBody("f"));
    }

    [Fact]
    public void REL_10_a_prelinked_field_that_disagrees_with_its_relocation_is_refused_at_the_field()
    {
        byte[] file = EveryKind(prelink: true);
        using CacheImage image = CacheImage.Read(file);
        FunctionRecord f = image.Functions[image.FindFunction("f")];
        int field = image.SectionOffset(SectionKind.Code) + (int)f.CodeOffset + 0x09; // the call to leaf
        var vandal = new Vandal(file);
        int value = BitConverter.ToInt32(file, field);
        byte[] forged = vandal.U32(field, (uint)(value + 16)).Reseal(); // every checksum made right again
        var e = Assert.Throws<AotCacheException>(() => CacheImage.Read(forged));
        Assert.Equal(ErrorCode.PrelinkMismatch, e.Code);
        Assert.Equal(field, e.Offset);
        Assert.Equal("REL-10", e.Requirement);
        // Without the flag the same bytes are a valid file: a field's content is the writer's business there.
        byte[] unflagged = vandal.U32(FileHeader.At.OptionalFlags, 0).Reseal();
        using CacheImage accepted = CacheImage.Read(unflagged);
        Assert.False(accepted.IsPrelinked);
    }

    [Theory]
    [InlineData(LinkMode.Direct)]
    [InlineData(LinkMode.HotSwappable)]
    public void REL_10_prelinked_and_plain_files_load_to_the_same_code_and_results(LinkMode mode)
    {
        using CacheImage prelinked = CacheImage.Read(EveryKind(prelink: true));
        using CacheImage plain = CacheImage.Read(EveryKind(prelink: false));
        using LoadedModule a = LoadedModule.Load(prelinked, Options(mode));
        using LoadedModule b = LoadedModule.Load(plain, Options(mode));
        Assert.Equal(Expected, a.Invoke("f", Value.I64(5)).AsI64);
        Assert.Equal(Expected, b.Invoke("f", Value.I64(5)).AsI64);
        // Both lie at the canonical offsets of their regions; the code each runs is the same bytes but for Absolute64
        // fields, which hold each module's own addresses.
        var (codeA, codeB) = (CodeOf(a), CodeOf(b));
        FunctionRecord f = prelinked.Functions[prelinked.FindFunction("f")];
        long absolute = f.CodeOffset + 0x4a;
        for (long i = 0; i < codeA.Length; i++)
            if (i < absolute || i >= absolute + 8) Assert.True(codeA[(int)i] == codeB[(int)i], $"code byte {i} differs");
    }

    private static byte[] CodeOf(LoadedModule module)
    {
        CanonicalLayout layout = module.Image.CanonicalLayout;
        var code = new byte[module.Image.Code.Length];
        Marshal.Copy(module.Region.Address + (nint)layout.CodeOffset, code, 0, code.Length);
        return code;
    }

    private string Save(byte[] file, string name, UnixFileMode mode)
    {
        string path = Path.Combine(_directory, name);
        AtomicFile.Write(path, file);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    [Fact]
    public void A_file_only_its_owner_can_write_is_mapped_and_its_code_pages_are_the_files_own()
    {
        string path = Save(EveryKind(prelink: true), "mine.aotc", OwnerOnly);
        using LoadedModule module = LoadedModule.LoadFile(path, Options());
        Assert.True(module.CodeMappedFromFile);
        Assert.Equal(Expected, module.Invoke("f", Value.I64(5)).AsI64);
        // The code's full pages are a read+execute mapping of the cache file itself (shared with the page cache).
        CanonicalLayout layout = module.Image.CanonicalLayout;
        string maps = File.ReadAllText("/proc/self/maps");
        nint code = module.Region.Address + (nint)layout.CodeOffset;
        Assert.Contains(maps.Split('\n'), line => line.StartsWith($"{code:x}-", StringComparison.Ordinal) && line.Contains("r-xp") && line.EndsWith(path, StringComparison.Ordinal));
    }

    [Fact]
    public void A_file_others_can_write_is_copied_before_it_is_checked_and_a_write_that_ignores_the_lock_changes_nothing_that_runs()
    {
        byte[] file = EveryKind(prelink: true);
        string path = Save(file, "shared.aotc", OwnerOnly | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
        using LoadedModule module = LoadedModule.LoadFile(path, Options());
        Assert.False(module.CodeMappedFromFile);
        byte[] before = CodeOf(module);
        // Another user rewrites the inode in place, ignoring the advisory lock: zeros over the whole file.
        using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            RandomAccess.Write(handle, new byte[file.Length], 0);
        Assert.Equal(before, CodeOf(module));
        Assert.Equal(Expected, module.Invoke("f", Value.I64(5)).AsI64);
        Assert.Equal("every-kind", module.Image.ModuleName); // the tables too come from the copy
        Assert.Equal(Expected, module.Invoke("f", Value.I64(5)).AsI64);
    }

    [Fact]
    public void A_running_modules_code_does_not_change_when_the_cache_is_rewritten_whole_or_through_the_spare()
    {
        string path = Save(EveryKind(prelink: true), "edited.aotc", OwnerOnly);
        using LoadedModule module = LoadedModule.LoadFile(path, Options());
        Assert.True(module.CodeMappedFromFile);
        byte[] before = CodeOf(module);
        byte[] other = Vandal.RichModule();
        AtomicFile.Write(path, other);
        AtomicFile.WriteReusingSpare(path, [other]);
        AtomicFile.WriteReusingSpare(path, [Vandal.RichModule()]);
        Assert.Equal(before, CodeOf(module));
        Assert.Equal(Expected, module.Invoke("f", Value.I64(5)).AsI64);
    }

    [Fact]
    public void A_zero_fill_area_costs_nothing_until_it_is_touched()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = "big-zero-fill" };
        b.AddFunction("f", new FunctionBody([0x31, 0xC0, 0xC3], Signature.SysV([], [ScalarType.I64])));
        SymbolHandle zf = b.DeclareData("zf", DataKind.ZeroFilled, 4096);
        b.DefineZeroFilled(zf, (1 << 30) - 4096); // nearly 1 GiB
        using CacheImage image = CacheImage.Read(b.ToArray());
        using LoadedModule module = LoadedModule.Load(image);
        CanonicalLayout layout = image.CanonicalLayout;
        long resident = ResidentBytes(module.Region.Address + (nint)layout.ZeroFillOffset, layout.CodeOffset - layout.ZeroFillOffset);
        Assert.True(resident < 1 << 20, $"{resident} bytes of the untouched 1 GiB zero-fill area are resident");
    }

    /// <summary>Resident bytes of the mappings inside a range, from /proc/self/smaps.</summary>
    private static long ResidentBytes(nint start, long length)
    {
        ulong s = (ulong)start, e = (ulong)start + (ulong)length;
        long kb = 0;
        bool inside = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            if (line.Length > 0 && char.IsAsciiHexDigit(line[0]) && line.Contains('-'))
            {
                string[] range = line.Split(' ')[0].Split('-');
                ulong from = Convert.ToUInt64(range[0], 16), to = Convert.ToUInt64(range[1], 16);
                inside = from < e && to > s;
            }
            else if (inside && line.StartsWith("Rss:", StringComparison.Ordinal))
                kb += long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        return kb * 1024;
    }
}
