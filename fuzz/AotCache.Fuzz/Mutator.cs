using System.Buffers.Binary;

namespace AotCache.Fuzz;

/// <summary>
/// Byte-level mutations for a seeded, reproducible run: bit flips, byte sets, interesting values
/// (0, 0xFF, ±1, int.MaxValue, …) written as u8/u16/u32/u64 at field-aligned offsets (the format's fields
/// are naturally aligned), small arithmetic, block copies, splices with another corpus entry, truncation,
/// insertion and deletion. One call stacks 1–8 of them.
/// </summary>
public sealed class Mutator(int seed, int maxLength)
{
    private static readonly long[] s_interesting =
        [0, 1, -1, 2, 4, 7, 8, 16, 24, 32, 40, 64, 127, 128, 255, 256, 4096, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
         int.MaxValue, 0x7FFF_F000, int.MinValue, uint.MaxValue, 0x8000_0000, long.MaxValue, long.MinValue];

    private readonly Random _random = new(seed);

    public Random Random => _random;

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> corpus)
    {
        var b = new List<byte>(input);
        int stack = 1 << _random.Next(4);
        for (int i = 0; i < stack; i++) MutateOnce(b, corpus);
        if (b.Count > maxLength) b.RemoveRange(maxLength, b.Count - maxLength);
        return [.. b];
    }

    private void MutateOnce(List<byte> b, IReadOnlyList<byte[]> corpus)
    {
        if (b.Count == 0)
        {
            b.Add((byte)_random.Next(256));
            return;
        }
        switch (_random.Next(12))
        {
            case 0: // flip one bit
            {
                int at = _random.Next(b.Count);
                b[at] ^= (byte)(1 << _random.Next(8));
                break;
            }
            case 1: // set a random byte
                b[_random.Next(b.Count)] = (byte)_random.Next(256);
                break;
            case 2: // 0 or 0xFF
                b[_random.Next(b.Count)] = _random.Next(2) == 0 ? (byte)0 : (byte)0xFF;
                break;
            case 3:
            case 4:
            case 5: // an interesting value over a field-aligned u8/u16/u32/u64
            {
                int width = 1 << _random.Next(4);
                if (b.Count < width) break;
                int at = _random.Next(b.Count - width + 1) / width * width;
                WriteValue(b, at, width, s_interesting[_random.Next(s_interesting.Length)]);
                break;
            }
            case 6: // add or subtract a small number from an aligned u32 or u64
            {
                int width = _random.Next(2) == 0 ? 4 : 8;
                if (b.Count < width) break;
                int at = _random.Next(b.Count - width + 1) / width * width;
                Span<byte> field = stackalloc byte[8];
                for (int i = 0; i < width; i++) field[i] = b[at + i];
                long value = BinaryPrimitives.ReadInt64LittleEndian(field) + _random.Next(-35, 36);
                WriteValue(b, at, width, value);
                break;
            }
            case 7: // truncate: a few bytes off the end, or anywhere
            {
                int keep = _random.Next(2) == 0 ? b.Count - 1 - _random.Next(Math.Min(b.Count, 64)) : _random.Next(b.Count);
                b.RemoveRange(keep, b.Count - keep);
                break;
            }
            case 8: // insert bytes (a copy of a block, or a run of one value)
            {
                int at = _random.Next(b.Count + 1);
                int length = 1 + _random.Next(Math.Min(64, b.Count));
                if (_random.Next(2) == 0)
                {
                    int from = _random.Next(b.Count - length + 1);
                    b.InsertRange(at, b.GetRange(from, length));
                }
                else b.InsertRange(at, Enumerable.Repeat((byte)_random.Next(256), length));
                break;
            }
            case 9: // delete a block
            {
                int at = _random.Next(b.Count);
                b.RemoveRange(at, 1 + _random.Next(Math.Min(64, b.Count - at)));
                break;
            }
            case 10: // copy a block over another place
            {
                int length = 1 + _random.Next(Math.Min(64, b.Count));
                int from = _random.Next(b.Count - length + 1), to = _random.Next(b.Count - length + 1);
                List<byte> block = b.GetRange(from, length);
                for (int i = 0; i < length; i++) b[to + i] = block[i];
                break;
            }
            default: // splice: our head, another entry's tail (or an aligned 8-byte field of it)
            {
                byte[] other = corpus[_random.Next(corpus.Count)];
                if (other.Length == 0) break;
                if (_random.Next(2) == 0)
                {
                    int cut = _random.Next(Math.Min(b.Count, other.Length) + 1);
                    b.RemoveRange(cut, b.Count - cut);
                    b.AddRange(other.AsSpan(cut).ToArray());
                }
                else if (other.Length >= 8 && b.Count >= 8)
                {
                    int at = _random.Next(Math.Min(b.Count, other.Length) - 7) / 8 * 8;
                    for (int i = 0; i < 8; i++) b[at + i] = other[at + i];
                }
                break;
            }
        }
    }

    private static void WriteValue(List<byte> b, int at, int width, long value)
    {
        for (int i = 0; i < width; i++) b[at + i] = (byte)(value >> (8 * i));
    }
}
