using System.Buffers;
using System.Runtime.InteropServices;

namespace AotCache.Loader.Memory;

/// <summary>
/// DWARF call frame information (<c>.eh_frame</c> form, FORMAT.md §19) registered with libgcc's unwinder, which
/// glibc's <c>backtrace()</c>, <c>_Unwind_Backtrace</c> and C++ exceptions walk with: <c>__register_frame_info_bases</c>
/// with the text base that the CFI's pc_begin values (DW_EH_PE_textrel) are relative to, so a module's CFI is used
/// where the file holds it, with no copy and no fix-up. libgcc only links the object into its list and sorts the FDEs
/// on the first unwind that needs them: registering costs O(1). The CFI bytes, and the object libgcc links, stay at
/// their addresses until <see cref="Dispose"/> deregisters them.
/// </summary>
/// <remarks>libgcc finds a registration by the address of its CFI, so one address is registered at most once: a
/// second module loaded from the same image registers a copy.</remarks>
internal sealed unsafe class FrameRegistration : IDisposable
{
    /// <summary>Bytes reserved for libgcc's <c>struct object</c> (seven pointers in GCC 12–14): room to spare.</summary>
    private const int ObjectSize = 256;

    private static readonly delegate* unmanaged<void*, void*, void*, void*, void> s_register;
    private static readonly delegate* unmanaged<void*, void*> s_deregister;
    private static readonly delegate* unmanaged<void*, void*, void*> s_findFde;
    private static readonly object s_lock = new(); // a monitor: net8.0 has no System.Threading.Lock
    private static readonly HashSet<nint> s_registered = [];

    static FrameRegistration()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libgcc_s.so.1", out nint libgcc)) return;
        if (!NativeLibrary.TryGetExport(libgcc, "__register_frame_info_bases", out nint register)
            || !NativeLibrary.TryGetExport(libgcc, "__deregister_frame_info_bases", out nint deregister)
            || !NativeLibrary.TryGetExport(libgcc, "_Unwind_Find_FDE", out nint find)) return;
        s_register = (delegate* unmanaged<void*, void*, void*, void*, void>)register;
        s_deregister = (delegate* unmanaged<void*, void*>)deregister;
        s_findFde = (delegate* unmanaged<void*, void*, void*>)find;
    }

    /// <summary>True when this process has libgcc's unwinder (glibc Linux); elsewhere nothing is registered.</summary>
    public static bool IsAvailable => s_register != null;

    private MemoryHandle _pin;
    private void* _copy;
    private void* _object;
    private readonly void* _begin;
    private bool _disposed;

    private FrameRegistration(MemoryHandle pin, void* copy, void* begin, void* obj)
    {
        _pin = pin;
        _copy = copy;
        _begin = begin;
        _object = obj;
    }

    /// <summary>
    /// Registers a validated CFI area (CIE, FDEs, zero terminator) whose pc_begin values are relative to
    /// <paramref name="textBase"/>. The bytes are pinned in place (or copied, when that address is registered already)
    /// and must not change until <see cref="Dispose"/>. Null when libgcc is not available or the area holds no FDE.
    /// </summary>
    public static FrameRegistration? Register(ReadOnlyMemory<byte> cfi, nint textBase)
    {
        if (!IsAvailable || !HasFde(cfi.Span)) return null;
        MemoryHandle pin = cfi.Pin();
        void* begin = pin.Pointer;
        void* copy = null;
        void* obj = NativeMemory.AllocZeroed(ObjectSize);
        lock (s_lock)
        {
            if (s_registered.Contains((nint)begin))
            {
                pin.Dispose();
                pin = default;
                begin = copy = CopyToNative(cfi.Span);
            }
            s_registered.Add((nint)begin);
            s_register(begin, obj, (void*)textBase, null);
        }
        return new FrameRegistration(pin, copy, begin, obj);
    }

    /// <summary>Registers a copy of <paramref name="cfi"/> (e.g. CFI built for a batch of new bodies).</summary>
    public static FrameRegistration? RegisterCopy(ReadOnlySpan<byte> cfi, nint textBase)
    {
        if (!IsAvailable || !HasFde(cfi)) return null;
        void* copy = CopyToNative(cfi);
        void* obj = NativeMemory.AllocZeroed(ObjectSize);
        lock (s_lock)
        {
            s_registered.Add((nint)copy);
            s_register(copy, obj, (void*)textBase, null);
        }
        return new FrameRegistration(default, copy, copy, obj);
    }

    /// <summary>A copy of <paramref name="cfi"/> in 8-aligned native memory, freed by <see cref="Dispose"/>.</summary>
    private static void* CopyToNative(ReadOnlySpan<byte> cfi)
    {
        void* copy = NativeMemory.AlignedAlloc((nuint)cfi.Length, 8);
        cfi.CopyTo(new Span<byte>(copy, cfi.Length));
        return copy;
    }

    /// <summary>
    /// True when libgcc's unwinder has an FDE covering <paramref name="pc"/> (<c>_Unwind_Find_FDE</c>, which also
    /// searches the executables and libraries the dynamic loader knows); for tests and diagnostics. Also gives the start
    /// of the function the FDE describes.
    /// </summary>
    public static bool Covers(nint pc, out nint functionStart)
    {
        functionStart = 0;
        if (!IsAvailable) return false;
        nint* bases = stackalloc nint[3]; // struct dwarf_eh_bases { tbase, dbase, func }
        void* fde = s_findFde((void*)pc, bases);
        if (fde == null) return false;
        functionStart = bases[2];
        return true;
    }

    /// <summary>Deregisters (libgcc frees its sorted table of the object), then frees the object and any copy.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (s_lock)
        {
            void* obj = s_deregister(_begin);
            s_registered.Remove((nint)_begin);
            // libgcc returns the object it had linked: ours. Anything else would mean it still holds ours; then leak it.
            if (obj != _object) _object = null;
        }
        if (_object != null) NativeMemory.Free(_object);
        if (_copy != null) NativeMemory.AlignedFree(_copy);
        _object = _copy = null;
        _pin.Dispose();
    }

    /// <summary>A CFI area with at least one FDE: libgcc ignores an area that starts with its terminator, and
    /// deregistering such an area would find nothing.</summary>
    private static bool HasFde(ReadOnlySpan<byte> cfi) =>
        cfi.Length >= Format.UnwindRules.CieSize + 8 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(cfi[Format.UnwindRules.CieSize..]) != 0;
}
