using System.Buffers.Binary;
using System.Text;
using AotCache.ConformanceTests.FrontEnd;
using AotCache.ConformanceTests.Spec;
using AotCache.Demo.Build;
using AotCache.Demo.Remote;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Remote;
using AotCache.Writer;

namespace AotCache.ConformanceTests.Remote;

/// <summary>
/// Module entries without a server (REMOTE.md §10): the key's encoding and vectors, the inputs Nib's key covers, the entry
/// as the file followed by its seal, and every refusal of §10.4, each with its reason.
/// </summary>
public sealed class RemoteModuleFormatTests : IDisposable
{
    private static readonly byte[] TeamSecret = [.. Enumerable.Range(3, 32).Select(i => (byte)i)];
    private static SignaturePolicy Team => new() { TrustedKeys = [VerificationKey.Hmac("team", TeamSecret)] };
    private static readonly RemoteFingerprint Fingerprint = BuildEngine.FingerprintOf(CodegenSettings.Default);

    private readonly string _directory = Directory.CreateTempSubdirectory("nib-module-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static RemoteModuleFormat Format(SigningKey? key = null, SignaturePolicy? policy = null, TargetDescription? target = null) =>
        new(target ?? TargetDescription.LinuxX64, Fingerprint, CpuFeatures.None, key, policy);

    private static RemoteModuleFormat Signing => Format(SigningKey.Hmac("team", TeamSecret), Team);

    private static RemoteModuleKey Key(string seed) => Format().KeyOf([ModuleInput.OfText("source", seed)]);

    /// <summary>An offline build's cache of a small program, as a fresh machine writes it.</summary>
    private byte[] OfflineFile(string text = "fn main() -> i64 { return 42; }\n")
    {
        BuildResult result = Nib.Build(Path.Combine(_directory, Guid.NewGuid().ToString("N")), text, incremental: false);
        return File.ReadAllBytes(result.CachePath);
    }

    [Fact]
    [Requirement("RMT-23")]
    public void The_module_key_matches_the_published_vector_and_cannot_equal_a_function_key()
    {
        var inputs = new RemoteModuleKeyInputs(1, Architecture.X86_64, Abi.SysVAmd64, TargetOs.Linux, (CpuFeatures)0x7d, 0x0123456789abcdef,
            new UInt128(0x99aabbccddeeff00, 0x1122334455667788));
        var encoded = new byte[RemoteModuleKey.EncodedLength];
        RemoteModuleKey.Encode(inputs, encoded);
        Assert.Equal("616f74632d6d6f64" + "0100010001000100" + "7d00000000000000" + "efcdab8967452301" + "8877665544332211" + "00ffeeddccbbaa99",
            Convert.ToHexStringLower(encoded));
        // Cross-checked with xxhsum -H2 over the 48 bytes.
        RemoteModuleKey key = RemoteModuleKey.For(inputs);
        Assert.Equal("aotc:module:1:223ef26894c5d6b16562ca57153dd6e2", key.Text);
        Assert.Equal(RemoteModuleKey.TextLength, key.Text.Length);

        // Every input counts; and a function key with the same numbers lives in another key space.
        Assert.NotEqual(key, RemoteModuleKey.For(inputs with { CpuFeatures = CpuFeatures.None }));
        Assert.NotEqual(key, RemoteModuleKey.For(inputs with { Fingerprint = 1 }));
        Assert.NotEqual(key, RemoteModuleKey.For(inputs with { Os = TargetOs.Windows }));
        Assert.NotEqual(key, RemoteModuleKey.For(inputs with { FormatMajor = 2 }));
        Assert.NotEqual(key, RemoteModuleKey.For(inputs with { InputsHash = inputs.InputsHash + 1 }));
        RemoteKey function = RemoteKey.For(new RemoteKeyInputs(1, new ContentHash(0x1122334455667788, 0x99aabbccddeeff00), 0x0123456789abcdef,
            Architecture.X86_64, Abi.SysVAmd64, TargetOs.Linux, (CpuFeatures)0x7d));
        Assert.False(function.Text.StartsWith(RemoteModuleKey.Prefix, StringComparison.Ordinal));
        Assert.False(key.Text.StartsWith(RemoteKey.Prefix, StringComparison.Ordinal));
    }

    [Fact]
    [Requirement("RMT-24")]
    public void The_inputs_hash_matches_its_vector_and_Nibs_key_covers_source_bytes_module_name_host_and_settings()
    {
        // REMOTE.md §10.1: sorted by name, length-prefixed; cross-checked with xxhsum -H2 over the 38 bytes.
        Assert.Equal(UInt128.Parse("463345abf44fad20ac74074435089c47", System.Globalization.NumberStyles.HexNumber),
            RemoteModuleKey.HashInputs([ModuleInput.OfText("source", "x"), ModuleInput.OfText("module", "m")]));
        Assert.Throws<ArgumentException>(() => RemoteModuleKey.HashInputs([ModuleInput.OfText("a", "x"), ModuleInput.OfText("a", "y")]));
        // Lengths are encoded: moving a byte from one input's name to its content changes the hash.
        Assert.NotEqual(RemoteModuleKey.HashInputs([ModuleInput.OfText("ab", "c")]), RemoteModuleKey.HashInputs([ModuleInput.OfText("a", "bc")]));

        var host = new HostLibrary(TextWriter.Null);
        RemoteModuleKey KeyOf(string path, string text, CodegenSettings? codegen = null, HostLibrary? library = null)
        {
            var format = new RemoteModuleFormat(TargetDescription.LinuxX64, BuildEngine.FingerprintOf(codegen ?? CodegenSettings.Default));
            return format.KeyOf(RemoteModuleCache.InputsOf(new SourceFile(path, Encoding.UTF8.GetBytes(text)), library ?? host));
        }
        string text = Nib.Generated(20);
        RemoteModuleKey key = KeyOf("/a/program.nib", text);
        // The directory does not reach the file; the module name, every source byte and the settings do.
        Assert.Equal(key, KeyOf("/b/program.nib", text));
        Assert.NotEqual(key, KeyOf("/a/other.nib", text));
        Assert.NotEqual(key, KeyOf("/a/program.nib", text + " "));
        Assert.NotEqual(key, KeyOf("/a/program.nib", text, CodegenSettings.Default with { ImportCalls = AotCache.Codegen.ImportCallStyle.Slot }));
        Assert.Equal(["nib.host", "nib.module", "nib.source"],
            RemoteModuleCache.InputsOf(new SourceFile("/a/program.nib", [1]), host).Select(i => i.Name));
        Assert.Contains("extern fn print_i64(p0: i64);",
            Encoding.UTF8.GetString(RemoteModuleCache.InputsOf(new SourceFile("/a/program.nib", [1]), host)[0].Bytes.Span), StringComparison.Ordinal);
    }

    [Fact]
    [Requirement("RMT-25")]
    public void An_entry_is_the_unchanged_file_followed_by_a_signed_seal_of_the_key_length_and_SHA_256()
    {
        byte[] file = OfflineFile();
        RemoteModuleKey key = Key("a");
        byte[] entry = Signing.Seal(file, key);
        Assert.Equal(file, entry[..file.Length]);

        using CacheImage seal = CacheImage.Read(entry.AsMemory(file.Length), ReadOptions.Full with { Signatures = Team });
        Assert.True(seal.HasSection(SectionKind.Signature));
        Assert.Equal([(uint)SectionKind.Strings, RemoteModuleFormat.SealSectionKind, (uint)SectionKind.Signature], seal.Directory.ToArray().Select(s => s.Kind));
        Assert.True(seal.TryGetSection(RemoteModuleFormat.SealSectionKind, out ReadOnlySpan<byte> record));
        Assert.Equal("aotcseal"u8.ToArray(), record[..8].ToArray());
        Assert.Equal((ulong)file.Length, BinaryPrimitives.ReadUInt64LittleEndian(record[8..]));
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(file), record.Slice(16, 32).ToArray());
        Assert.Equal((uint)key.Text.Length, BinaryPrimitives.ReadUInt32LittleEndian(record[48..]));
        Assert.Equal(key.Text, Encoding.ASCII.GetString(record[56..]));

        // Read back: the file, byte for byte; with HMAC or no key the entry is deterministic.
        Assert.True(Signing.TryRead(entry, key, null, out ReadOnlyMemory<byte> read, out EntryRefusal? refusal), refusal?.ToString());
        Assert.Equal(file, read.ToArray());
        Assert.Equal(entry, Signing.Seal(file, key));
        Assert.Equal(Format().Seal(file, key), Format().Seal(file, key));
        Assert.False(CacheImage.Read(file).HasSection(SectionKind.Signature));
    }

    public static TheoryData<string> Damage => new() { "file byte", "seal byte", "truncated", "seal cut off", "empty seal", "short" };

    [Theory]
    [MemberData(nameof(Damage))]
    [Requirement("RMT-26")]
    public void A_damaged_or_truncated_entry_is_refused_as_malformed(string damage)
    {
        byte[] file = OfflineFile();
        RemoteModuleKey key = Key("a");
        byte[] entry = Signing.Seal(file, key);
        byte[] bad = damage switch
        {
            "file byte" => Flip(entry, file.Length / 2),
            "seal byte" => Flip(entry, file.Length + 200),
            "truncated" => entry[..(entry.Length / 2)],
            "seal cut off" => entry[..(entry.Length - 1)],
            "empty seal" => entry[..file.Length],
            _ => entry[..20],
        };
        Assert.False(Signing.TryRead(bad, key, null, out ReadOnlyMemory<byte> read, out EntryRefusal? refusal));
        Assert.True(read.IsEmpty);
        Assert.Equal(EntryProblem.Malformed, refusal!.Problem);
    }

    [Fact]
    [Requirement("RMT-26")]
    public void Unsigned_and_foreign_signed_seals_are_refused_when_signatures_are_required()
    {
        byte[] file = OfflineFile();
        RemoteModuleKey key = Key("a");
        Assert.False(Signing.TryRead(Format().Seal(file, key), key, null, out _, out EntryRefusal? refusal));
        Assert.Equal(EntryProblem.Unsigned, refusal!.Problem);
        byte[] strangers = Format(SigningKey.Hmac("team", [.. Enumerable.Range(100, 32).Select(i => (byte)i)])).Seal(file, key);
        Assert.False(Signing.TryRead(strangers, key, null, out _, out refusal));
        Assert.Equal(EntryProblem.BadSignature, refusal!.Problem);
        // A client without keys accepts either.
        Assert.True(Format().TryRead(strangers, key, null, out _, out refusal), refusal?.ToString());
    }

    [Fact]
    [Requirement("RMT-26")]
    public void An_entry_of_another_key_target_compiler_or_a_signed_file_is_refused_with_its_reason()
    {
        byte[] file = OfflineFile();
        RemoteModuleKey key = Key("a");

        // Sealed for another key: a signed entry cannot be replayed under another key.
        Assert.False(Signing.TryRead(Signing.Seal(file, Key("b")), key, null, out _, out EntryRefusal? refusal));
        Assert.Equal(EntryProblem.OtherKey, refusal!.Problem);

        // A seal for another target, and a valid file built for another target sealed under this key.
        var windows = new TargetDescription(Architecture.X86_64, Abi.Win64, TargetOs.Windows);
        Assert.False(Signing.TryRead(Format(SigningKey.Hmac("team", TeamSecret), target: windows).Seal(file, key), key, null, out _, out refusal));
        Assert.Equal(EntryProblem.ForeignTarget, refusal!.Problem);
        var foreign = new CacheBuilder(windows) { ModuleName = "program" };
        Fingerprint.AddTo(foreign);
        foreign.AddFunction("main", new FunctionBody([0xC3], new Signature(CallingConvention.Win64, [], [])));
        Assert.False(Signing.TryRead(Signing.Seal(foreign.ToArray(), key), key, null, out _, out refusal));
        Assert.Equal(EntryProblem.ForeignTarget, refusal!.Problem);

        // Another compiler configuration: the file's canonical fingerprint is not the key's.
        var other = new RemoteModuleFormat(TargetDescription.LinuxX64, RemoteFingerprint.Of([FingerprintSetting.OfString("nib.compiler", "nib 0.1")]),
            CpuFeatures.None, SigningKey.Hmac("team", TeamSecret), Team);
        RemoteModuleKey otherKey = other.KeyOf([ModuleInput.OfText("source", "a")]);
        Assert.False(other.TryRead(other.Seal(file, otherKey), otherKey, null, out _, out refusal));
        Assert.Equal(EntryProblem.OtherCompiler, refusal!.Problem);

        // A signed file is not what an offline build writes.
        var signedBuilder = new CacheBuilder(TargetDescription.LinuxX64) { SigningKey = SigningKey.Hmac("team", TeamSecret) };
        Fingerprint.AddTo(signedBuilder);
        signedBuilder.AddFunction("main", new FunctionBody([0xC3], Signature.SysV([], [])));
        Assert.False(Signing.TryRead(Signing.Seal(signedBuilder.ToArray(), key), key, null, out _, out refusal));
        Assert.Equal(EntryProblem.Shape, refusal!.Problem);

        // The front end's own check runs last, on the validated file [RMT-27].
        Assert.False(Signing.TryRead(Signing.Seal(file, key), key, _ => new EntryRefusal(EntryProblem.DoesNotFit, "not this program"), out _, out refusal));
        Assert.Equal(EntryProblem.DoesNotFit, refusal!.Problem);
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        byte[] copy = (byte[])bytes.Clone();
        copy[at] ^= 0x40;
        return copy;
    }
}
