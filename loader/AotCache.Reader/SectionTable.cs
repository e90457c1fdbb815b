using System.Runtime.CompilerServices;
using AotCache.Format;

namespace AotCache.Reader;

/// <summary>Where one known section lies in a validated file.</summary>
internal readonly record struct SectionSlot(int Offset, int Length, bool Present);

/// <summary>Where each known section lies in a validated file, indexed by <see cref="SectionKind"/>.
/// A missing section is empty.</summary>
[InlineArray(Slots)]
internal struct SectionTable
{
    public const int Slots = (int)SectionKind.Unwind + 1;
    private SectionSlot _first;

    public static bool IsKnown(uint kind) => kind >= 1 && kind < Slots;
}
