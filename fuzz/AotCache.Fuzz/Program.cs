using AotCache.Format;
using AotCache.Loader;
using SharpFuzz;

namespace AotCache.Fuzz;

/// <summary>
/// AFL++ entry point (see fuzz/README.md): each input is one candidate cache file. Reading and full
/// validation may accept it or throw <see cref="AotCacheException"/>; any other exception is a crash.
/// </summary>
public static class Program
{
    public static void Main()
    {
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            Target.Run(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        });
    }
}

/// <summary>The code under fuzzing, shared by the AFL++ harness and the in-process CI run.</summary>
public static class Target
{
    public static void Run(ReadOnlyMemory<byte> input)
    {
        try
        {
            using CacheImage image = CacheImage.Read(input, ReadOptions.Full);
            // Accepted inputs are walked the way tools walk them.
            for (int i = 0; i < image.Symbols.Length; i++) _ = image.SymbolName(i);
            for (int i = 0; i < image.Declarations.Length; i++) _ = image.GetSignature(i);
            foreach (FunctionRecord f in image.Functions) { _ = image.FunctionCode(f); _ = image.RelocationsOf(f); }
            foreach (DataObjectRecord d in image.DataObjects) { _ = image.DataBytes(d); _ = image.RelocationsOf(d); }
        }
        catch (AotCacheException)
        {
            // The one allowed outcome for bad input.
        }
    }
}
