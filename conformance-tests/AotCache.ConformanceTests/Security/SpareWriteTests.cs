using AotCache.Reader;
using AotCache.Reader.Memory;
using AotCache.Writer;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Win32.SafeHandles;

namespace AotCache.ConformanceTests.Security;

/// <summary>
/// <see cref="AtomicFile.WriteReusingSpare"/>: the next version goes into the spare copy beside the file, only
/// the pages that differ, and the two swap names atomically. Every version must come out byte for byte, a
/// reader's mapping must never change under it, and a writer that cannot have the spare must still write.
/// </summary>
public sealed class SpareWriteTests : IDisposable
{
    private const int Page = 4096;
    private readonly string _directory = Directory.CreateTempSubdirectory("aotc-spare-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static SpareWriteResult Write(string path, byte[] bytes) => AtomicFile.WriteReusingSpare(path, [bytes]);

    [Fact]
    public void An_edit_writes_only_the_pages_it_changed_and_the_replaced_version_becomes_the_spare()
    {
        string path = Path.Combine(_directory, "c.aotc");
        byte[] v1 = RandomBytes(40 * Page + 123, 1);
        SpareWriteResult first = Write(path, v1);
        Assert.Equal(2L * v1.Length, first.BytesWritten); // a first version: the file, and its spare copy
        Assert.Equal(v1, File.ReadAllBytes(path));
        Assert.Equal(v1, File.ReadAllBytes(AtomicFile.SparePathOf(path)));

        byte[] v2 = (byte[])v1.Clone();
        v2[5 * Page + 7] ^= 1;
        v2[30 * Page] ^= 1;
        SpareWriteResult second = Write(path, v2);
        Assert.True(second.ReusedSpare);
        Assert.Equal(2 * Page, second.BytesWritten);
        Assert.Equal(v2, File.ReadAllBytes(path));
        Assert.Equal(v1, File.ReadAllBytes(AtomicFile.SparePathOf(path)));

        byte[] v3 = (byte[])v2.Clone();
        v3[12 * Page + 100] ^= 0xFF;
        SpareWriteResult third = Write(path, v3);
        Assert.True(third.ReusedSpare);
        // The spare held v1: the pages where v1 and v3 differ are pages 5, 12 and 30.
        Assert.Equal(3 * Page, third.BytesWritten);
        Assert.Equal(v3, File.ReadAllBytes(path));
        Assert.Equal(v2, File.ReadAllBytes(AtomicFile.SparePathOf(path)));
    }

    /// <summary>What may happen to the spare between two writes: nothing, or somebody deletes, damages or
    /// shortens it, or the file is replaced by a plain <see cref="AtomicFile.Write(string, ReadOnlySpan{byte})"/>.</summary>
    public enum Mischief { None, DeleteSpare, ScrambleSpare, TruncateSpare, PlainWrite }

    public sealed record Step(int[] Flips, int LengthChange, Mischief Mischief, int PieceSize);

    public static class Arbitraries
    {
        public static Arbitrary<Step[]> Steps() => (
            from count in Gen.Choose(1, 4)
            from steps in Gen.ArrayOf(Step(), count)
            select steps).ToArbitrary();

        private static Gen<Step> Step() =>
            from flipCount in Gen.Choose(0, 6)
            from flips in Gen.ArrayOf(Gen.Choose(0, 12 * Page), flipCount)
            from change in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Choose(-3 * Page, 3 * Page)))
            from mischief in Gen.Frequency((6, Gen.Constant(Mischief.None)), (1, Gen.Elements(Enum.GetValues<Mischief>())))
            from pieceSize in Gen.Elements(1, 100, Page - 1, Page, 3 * Page + 5, int.MaxValue)
            select new Step(flips, change, mischief, pieceSize);
    }

    [Property(MaxTest = 1000, Arbitrary = [typeof(Arbitraries)])]
    public bool Every_version_is_the_file_byte_for_byte_whatever_the_spare_holds(Step[] steps)
    {
        string path = Path.Combine(_directory, $"p{Guid.NewGuid():N}.aotc");
        string spare = AtomicFile.SparePathOf(path);
        byte[] current = RandomBytes(8 * Page + 17, steps.Length);
        Write(path, current);
        var random = new Random(steps.Length);
        foreach (Step step in steps)
        {
            int length = Math.Max(0, current.Length + step.LengthChange);
            byte[] next = new byte[length];
            current.AsSpan(0, Math.Min(length, current.Length)).CopyTo(next);
            if (length > current.Length) random.NextBytes(next.AsSpan(current.Length));
            foreach (int at in step.Flips) if (at < length) next[at] ^= (byte)(1 + at % 255);
            switch (step.Mischief)
            {
                case Mischief.DeleteSpare: File.Delete(spare); break;
                case Mischief.ScrambleSpare when File.Exists(spare): File.WriteAllBytes(spare, RandomBytes((int)new FileInfo(spare).Length, length)); break;
                case Mischief.TruncateSpare when File.Exists(spare): using (var s = File.OpenWrite(spare)) s.SetLength(s.Length / 2); break;
            }
            if (step.Mischief == Mischief.PlainWrite) AtomicFile.Write(path, next);
            else
            {
                // A fresh file instead of the spare is allowed (a process forked by another test can hold a lock for a
                // moment); the bytes are not negotiable. How often the spare is used is asserted by the facts above.
                SpareWriteResult result = AtomicFile.WriteReusingSpare(path, Pieces(next, step.PieceSize));
                if (result.Length != length || result.BytesWritten > length)
                    throw new Xunit.Sdk.XunitException($"{result} for a {length}-byte version after {step}");
            }
            byte[] actual = File.ReadAllBytes(path);
            if (!actual.AsSpan().SequenceEqual(next))
                throw new Xunit.Sdk.XunitException($"the file is not the version written after {step} ({actual.Length} bytes, expected {length}; " +
                    $"first difference at {actual.AsSpan().CommonPrefixLength(next)})");
            current = next;
        }
        return true;
    }

    private static List<ReadOnlyMemory<byte>> Pieces(byte[] bytes, int size)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        for (int at = 0; at < bytes.Length; at += size) pieces.Add(bytes.AsMemory(at, Math.Min(size, bytes.Length - at)));
        return pieces;
    }

    [Fact]
    public void A_version_that_a_reader_still_maps_is_never_written_the_writer_writes_a_fresh_file_instead()
    {
        string path = Path.Combine(_directory, "mapped.aotc");
        byte[] v1 = CrashWriter.Program.Version(1, 1), v2 = CrashWriter.Program.Version(2, 2), v3 = CrashWriter.Program.Version(3, 3);
        Write(path, v1);
        using (MappedFile reader = MappedFile.OpenRead(path))
        {
            Write(path, v2); // v1's inode is now the spare, still mapped by the reader
            SpareWriteResult third = Write(path, v3);
            Assert.False(third.ReusedSpare, "the spare is mapped by a reader: writing into it would change the reader's bytes");
            Assert.Equal(v3.Length, third.BytesWritten);
            Assert.True(reader.Memory.Span.SequenceEqual(v1), "the reader's mapping changed under it");
            using CacheImage image = CacheImage.Read(reader.Memory, ReadOptions.Full);
            Assert.Equal(1, CrashWriter.Program.GenerationOf(image));
        }
        Assert.Equal(v3, File.ReadAllBytes(path));
        byte[] v4 = CrashWriter.Program.Version(4, 4);
        Assert.True(Write(path, v4).ReusedSpare, "with the reader gone the spare is used again");
        Assert.Equal(v4, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_writer_that_finds_another_at_work_writes_a_fresh_file_instead_of_waiting()
    {
        string path = Path.Combine(_directory, "busy.aotc");
        Write(path, RandomBytes(3 * Page, 1));
        Write(path, RandomBytes(3 * Page, 2));
        byte[] v3 = RandomBytes(3 * Page, 3);
        using (SafeFileHandle other = File.OpenHandle(AtomicFile.SparePathOf(path) + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            SpareWriteResult result = Write(path, v3);
            Assert.False(result.ReusedSpare);
            Assert.Equal(v3, File.ReadAllBytes(path));
        }
        byte[] v4 = RandomBytes(3 * Page, 4);
        Assert.True(Write(path, v4).ReusedSpare);
        Assert.Equal(v4, File.ReadAllBytes(path));
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_symbolic_link_planted_as_the_spare_is_not_followed_and_its_target_is_not_written()
    {
        string path = Path.Combine(_directory, "planted.aotc");
        string victim = Path.Combine(_directory, "victim.txt");
        File.WriteAllText(victim, "precious");
        Write(path, RandomBytes(2 * Page, 1));
        File.Delete(AtomicFile.SparePathOf(path));
        File.CreateSymbolicLink(AtomicFile.SparePathOf(path), victim);
        byte[] v2 = RandomBytes(2 * Page, 2);
        SpareWriteResult result = Write(path, v2);
        Assert.False(result.ReusedSpare);
        Assert.Equal("precious", File.ReadAllText(victim));
        Assert.Equal(v2, File.ReadAllBytes(path));
        Assert.Null(new FileInfo(path).LinkTarget); // the cache is a file, not a link to the victim
    }

    [Fact]
    public void A_spare_hard_linked_to_the_file_is_not_written_in_place()
    {
        string path = Path.Combine(_directory, "linked.aotc");
        byte[] v1 = RandomBytes(2 * Page, 1);
        Write(path, v1);
        File.Delete(AtomicFile.SparePathOf(path));
        Assert.Equal(0, Link(path, AtomicFile.SparePathOf(path)));
        byte[] v2 = RandomBytes(2 * Page, 2);
        SpareWriteResult result = Write(path, v2);
        Assert.False(result.ReusedSpare, "the spare is the file itself under a second name: writing it would edit the file in place");
        Assert.Equal(v2, File.ReadAllBytes(path));
        Assert.Equal(v1, File.ReadAllBytes(AtomicFile.SparePathOf(path)));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true, CharSet = System.Runtime.InteropServices.CharSet.Ansi)]
    private static extern int Link(string existing, string created);
}
