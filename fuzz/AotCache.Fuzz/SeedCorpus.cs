using System.Globalization;
using System.Text.RegularExpressions;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Remote;
using AotCache.Writer;

namespace AotCache.Fuzz;

/// <summary>
/// The seed corpus: the golden caches of the conformance tests, the loader regressions of fuzz/regressions,
/// every spec vector (valid, strict, malformed), assembled to bytes, and team-cache entries of the golden files' functions. Deterministic: the same sources give the same files.
/// Beside the seeds, the corpus folder keeps the minimized inputs of the last AFL++ campaign (<see cref="GrownPrefix"/>).
/// </summary>
public static partial class SeedCorpus
{
    /// <summary>The folder holding Format.sln, found upwards from <paramref name="start"/> (default: the working directory).</summary>
    public static string RepositoryRoot(string? start = null)
    {
        foreach (string from in new[] { start ?? Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (DirectoryInfo? d = new(from); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Format.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("no Format.sln above the working directory or the program: run from the repository");
    }

    public static string DefaultDirectory(string root) => Path.Combine(root, "fuzz", "corpus");

    /// <summary>Findings the reader accepts but the loader once crashed on (a reader finding becomes a spec vector instead).</summary>
    public static string RegressionDirectory(string root) => Path.Combine(root, "fuzz", "regressions");

    /// <summary>Seed name → bytes, in ordinal name order.</summary>
    public static SortedDictionary<string, byte[]> Build(string root)
    {
        var seeds = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        string golden = Path.Combine(root, "conformance-tests", "AotCache.ConformanceTests", "Golden");
        foreach (string path in Directory.EnumerateFiles(golden, "*.aotc"))
            seeds["golden-" + Path.GetFileName(path)] = File.ReadAllBytes(path);
        foreach (string path in Directory.EnumerateFiles(RegressionDirectory(root), "*.aotc"))
            seeds["regression-" + Path.GetFileName(path)] = File.ReadAllBytes(path);
        string vectors = Path.Combine(root, "spec", "vectors");
        foreach (string path in Directory.EnumerateFiles(vectors, "*.txt", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(path) == "README.txt") continue;
            string relative = Path.GetRelativePath(vectors, path).Replace(Path.DirectorySeparatorChar, '-');
            seeds["vector-" + Path.ChangeExtension(relative, ".aotc")] = VectorBytes(File.ReadAllText(path), relative);
        }
        AddRemoteEntries(seeds);
        return seeds;
    }

    /// <summary>
    /// Team-cache entries (spec/REMOTE.md §4), so the fuzzer starts from inputs the entry checks accept: every function
    /// with a content hash of the golden files, written against its own file (the entry's fingerprint is the file's),
    /// unsigned and signed with a fixed HMAC key (HMAC signatures are deterministic, FORMAT.md §13.3).
    /// </summary>
    private static void AddRemoteEntries(SortedDictionary<string, byte[]> seeds)
    {
        SigningKey hmac = SigningKey.Hmac("fuzz-seed", [.. Enumerable.Range(1, 32).Select(i => (byte)i)]);
        foreach (var (name, bytes) in seeds.Where(s => s.Key.StartsWith("golden-", StringComparison.Ordinal)).ToList())
        {
            using CacheImage image = CacheImage.Read(bytes);
            if (!Enum.IsDefined(image.Architecture) || !Enum.IsDefined(image.Abi) || !Enum.IsDefined(image.Os)) continue;
            var target = new TargetDescription(image.Architecture, image.Abi, image.Os);
            RemoteFingerprint fingerprint = RemoteFingerprint.Of(image);
            int written = 0;
            for (int f = 0; f < image.Functions.Length && written < 3; f++)
            {
                if (image.Functions[f].ContentHash.IsNone) continue;
                string function = image.SymbolName((int)image.Functions[f].Symbol);
                FunctionBody body = image.GetFunctionBody(f);
                string stem = $"remote-entry-{Path.GetFileNameWithoutExtension(name)["golden-".Length..]}-{written}";
                byte[] plain, signed;
                try
                {
                    plain = new RemoteEntryFormat(target, fingerprint).Write(function, body, image);
                    signed = new RemoteEntryFormat(target, fingerprint, signingKey: hmac).Write(function, body, image);
                }
                catch (ArgumentException)
                {
                    continue; // a function no entry can hold (it depends on an import's content, say)
                }
                seeds[stem + ".aotc"] = plain;
                seeds[stem + "-hmac.aotc"] = signed;
                written++;
            }
        }
    }

    /// <summary>Prefix of the inputs a fuzz campaign grew (AFL++'s queue after <c>afl-cmin</c>, fuzz/README.md): kept in
    /// the corpus as they are, never written or deleted by <see cref="Write"/>.</summary>
    public const string GrownPrefix = "grown-";

    /// <summary>Whether a corpus file is a grown input rather than a seed.</summary>
    public static bool IsGrown(string path) => Path.GetFileName(path).StartsWith(GrownPrefix, StringComparison.Ordinal);

    /// <summary>Rewrites <paramref name="directory"/> to hold exactly the seeds, besides the grown inputs.</summary>
    public static int Write(string root, string directory)
    {
        SortedDictionary<string, byte[]> seeds = Build(root);
        Directory.CreateDirectory(directory);
        foreach (string stale in Directory.EnumerateFiles(directory).Where(p => !IsGrown(p) && !seeds.ContainsKey(Path.GetFileName(p))))
            File.Delete(stale);
        foreach ((string name, byte[] bytes) in seeds) File.WriteAllBytes(Path.Combine(directory, name), bytes);
        return seeds.Count;
    }

    /// <summary>Every file of a corpus folder, in ordinal name order.</summary>
    public static List<byte[]> Load(string directory) =>
        [.. Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];

    [GeneratedRegex(@"^(?<offset>[0-9A-Fa-f]{8}):\s+(?<body>[^;]*?)\s*(?:;.*)?$")]
    private static partial Regex DataLine();

    [GeneratedRegex(@"^\.\.\s+(?<n>\d+)\s+zero bytes\s+\.\.$")]
    private static partial Regex ZeroRun();

    /// <summary>
    /// A vector's bytes (spec/vectors/README.md): its data lines, then its checksum fixup. Only what the bytes
    /// need; the conformance tests' parser checks everything else, and a test checks that the two agree.
    /// </summary>
    public static byte[] VectorBytes(string text, string name)
    {
        var bytes = new List<byte>();
        string fixup = "none";
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith("@fixup ", StringComparison.Ordinal)) fixup = line["@fixup ".Length..].Trim();
            if (line.StartsWith('@')) continue;
            Match m = DataLine().Match(line);
            if (!m.Success || long.Parse(m.Groups["offset"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture) != bytes.Count)
                throw new FormatException($"{name}: bad data line: {line}");
            string body = m.Groups["body"].Value.Trim();
            Match run = ZeroRun().Match(body);
            if (run.Success) bytes.AddRange(new byte[int.Parse(run.Groups["n"].Value, CultureInfo.InvariantCulture)]);
            else bytes.AddRange(Convert.FromHexString(body.Replace(" ", "", StringComparison.Ordinal)));
        }
        byte[] result = [.. bytes];
        if (fixup == "checksums") Target.FixChecksums(result);
        else if (fixup == "file-checksum" && result.Length >= Format.FormatConstants.HeaderSize)
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(Format.FormatConstants.FileChecksumOffset), Format.Checksums.FileChecksum(result));
        return result;
    }
}
