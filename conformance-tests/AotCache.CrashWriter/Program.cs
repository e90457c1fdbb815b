using System.Globalization;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Writer;

namespace AotCache.CrashWriter;

/// <summary>
/// <c>write-loop PATH SEED</c>: writes ever new versions until killed.
/// <c>spare-loop PATH SEED [COUNT]</c>: the same through <see cref="AtomicFile.WriteReusingSpare"/>, until killed or COUNT
/// versions are written; then prints "spare N fresh M": how many went through the spare, how many fell back to a fresh file.
/// <c>update PATH COUNT</c>: COUNT locked read-modify-write updates, each adding 1 to the generation.
/// <c>read-loop PATH</c>: prints "ready", then reads and fully validates the file repeatedly until its standard input
/// ends (the parent closes it once the writers are done) and at least one read succeeded; prints "reads N torn M busy B",
/// where busy counts opens refused because a writer was rewriting that very inode (an <see cref="IOException"/>, never a
/// torn view). No clock: the parent decides how long the reads overlap the writes.
/// </summary>
public static class Program
{
    /// <summary>A cache whose module name carries its generation, padded to a few pages so writes take a moment.</summary>
    public static byte[] Version(long generation, int seed)
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64) { ModuleName = $"gen-{generation}" };
        var sig = b.AddDeclaration(Signature.SysV([], [ScalarType.I64]));
        var rng = new Random(seed);
        for (int i = 0; i < 40; i++)
        {
            byte[] code = new byte[200 + rng.Next(400)];
            code.AsSpan().Fill(0x90);
            code[0] = 0xB8; BitConverter.TryWriteBytes(code.AsSpan(1), (int)generation); code[^1] = 0xC3;
            b.AddFunction($"f{i}", new FunctionBody(code, sig.Signature));
        }
        return b.ToArray();
    }

    public static long GenerationOf(CacheImage image) => long.Parse(image.ModuleName["gen-".Length..], CultureInfo.InvariantCulture);

    /// <summary>Tells the parent that the first version is written, so a kill can only land once writing has begun.</summary>
    private static void Announce(long generation)
    {
        Console.WriteLine($"wrote {generation}");
        Console.Out.Flush();
    }

    public static int Main(string[] args)
    {
        string path = args[1];
        switch (args[0])
        {
            case "write-loop":
            {
                int first = int.Parse(args[2], CultureInfo.InvariantCulture);
                for (long g = first; ; g++)
                {
                    AtomicFile.Write(path, Version(g, (int)g));
                    if (g == first) Announce(g);
                }
            }
            case "spare-loop":
            {
                int first = int.Parse(args[2], CultureInfo.InvariantCulture);
                long limit = args.Length > 3 ? long.Parse(args[3], CultureInfo.InvariantCulture) : long.MaxValue;
                long reused = 0;
                for (long k = 0; k < limit; k++)
                {
                    if (AtomicFile.WriteReusingSpare(path, [Version(first + k, (int)(first + k))]).ReusedSpare) reused++;
                    if (k == 0) Announce(first);
                }
                Console.WriteLine($"spare {reused} fresh {limit - reused}");
                return 0;
            }
            case "update":
                int count = int.Parse(args[2], CultureInfo.InvariantCulture);
                for (int i = 0; i < count; i++)
                    AtomicFile.Update(path, current =>
                    {
                        long generation = current is null ? 0 : GenerationOf(CacheImage.Read(current, ReadOptions.Full));
                        return Version(generation + 1, (int)generation);
                    });
                return 0;
            case "read-loop":
                long reads = 0, torn = 0, busy = 0;
                Task stop = Task.Run(() => Console.In.ReadToEnd());
                Console.WriteLine("ready");
                Console.Out.Flush();
                while (!stop.IsCompleted || reads == 0)
                {
                    try
                    {
                        using CacheImage image = CacheImage.OpenFile(path, ReadOptions.Full);
                        _ = GenerationOf(image);
                        reads++;
                    }
                    catch (FileNotFoundException) { }
                    catch (IOException) { busy++; }
                    catch (AotCacheException e)
                    {
                        torn++;
                        Console.Error.WriteLine(e.Message);
                    }
                }
                Console.WriteLine($"reads {reads} torn {torn} busy {busy}");
                return torn == 0 ? 0 : 1;
            default:
                Console.Error.WriteLine("usage: write-loop PATH SEED | spare-loop PATH SEED [COUNT] | update PATH COUNT | read-loop PATH");
                return 2;
        }
    }
}
