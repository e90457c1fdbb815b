using System.Runtime.InteropServices;
using AotCache.Reader.Memory;

namespace AotCache.Loader.Memory;

/// <summary>
/// GDB's JIT interface (GDB manual, "JIT Compilation Interface"): a process exports <c>__jit_debug_descriptor</c>, a
/// list of in-memory symbol files, and <c>__jit_debug_register_code</c>, a function GDB keeps a breakpoint on. To add
/// or remove an entry, the process links it into (or out of) the list, names it as the relevant entry with the action,
/// and calls the function: a debugger that is attached reads the symbol file then; one that attaches later reads the
/// whole list. Without a debugger the call returns at once.
/// </summary>
/// <remarks>
/// The .NET runtime does not define the two symbols. When the process already does (a native host with a JIT of its
/// own), this class appends to that list; otherwise it loads a tiny shared object defining them (built by the caller,
/// written once per user into a private directory: GDB reads shared objects from their files).
/// </remarks>
internal static unsafe class GdbJitInterface
{
    private const uint NoAction = 0, RegisterAction = 1, UnregisterAction = 2;

    [StructLayout(LayoutKind.Sequential)]
    private struct CodeEntry
    {
        public CodeEntry* Next;
        public CodeEntry* Previous;
        public byte* SymbolFile;
        public ulong SymbolFileSize;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Descriptor
    {
        public uint Version;
        public uint ActionFlag;
        public CodeEntry* RelevantEntry;
        public CodeEntry* FirstEntry;
    }

    private static readonly object s_lock = new(); // a monitor: net8.0 has no System.Threading.Lock
    private static Descriptor* s_descriptor;
    private static delegate* unmanaged<void> s_registerCode;
    private static string? s_problem;
    private static bool s_initialized;

    /// <summary>
    /// Finds or provides the two symbols, once per process. <paramref name="helperImage"/> builds the helper shared
    /// object if one is needed. False, with the reason, when neither works (then nothing is registered).
    /// </summary>
    public static bool TryInitialize(Func<byte[]> helperImage, string registerCodeSymbol, string descriptorSymbol, out string? problem)
    {
        lock (s_lock)
        {
            if (!s_initialized)
            {
                s_initialized = true;
                s_problem = Initialize(helperImage, registerCodeSymbol, descriptorSymbol);
            }
            problem = s_problem;
            return problem is null;
        }
    }

    private static string? Initialize(Func<byte[]> helperImage, string registerCodeSymbol, string descriptorSymbol)
    {
        if (!OperatingSystem.IsLinux()) return "the GDB JIT interface is implemented for Linux only";
        nint program = NativeLibrary.GetMainProgramHandle();
        if (NativeLibrary.TryGetExport(program, registerCodeSymbol, out nint register) && NativeLibrary.TryGetExport(program, descriptorSymbol, out nint descriptor))
        {
            Use(register, descriptor);
            return null;
        }
        string? path = InstallHelper(helperImage());
        if (path is null) return "no private directory for the JIT debug helper could be made";
        if (!NativeLibrary.TryLoad(path, out nint helper)) return $"the JIT debug helper {path} could not be loaded";
        if (!NativeLibrary.TryGetExport(helper, registerCodeSymbol, out register) || !NativeLibrary.TryGetExport(helper, descriptorSymbol, out descriptor))
            return $"the JIT debug helper {path} does not export {registerCodeSymbol} and {descriptorSymbol}";
        Use(register, descriptor);
        return null;
    }

    private static void Use(nint register, nint descriptor)
    {
        s_registerCode = (delegate* unmanaged<void>)register;
        s_descriptor = (Descriptor*)descriptor;
        if (s_descriptor->Version == 0) s_descriptor->Version = 1;
    }

    /// <summary>
    /// Writes the helper into <c>$TMPDIR/aotcache-UID/</c>, a directory only this user can write (made with mode 0700,
    /// checked to be a real directory owned by the user, nothing for group or others), unless the same bytes are there
    /// already: a shared object another user could replace must never be loaded. Null when no such directory can be had.
    /// </summary>
    private static string? InstallHelper(byte[] image)
    {
        if (OperatingSystem.IsWindows() || FileIdentity.CurrentUser is not { } user) return null;
        string directory = Path.Combine(Path.GetTempPath(), $"aotcache-{user}");
        try
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        const uint TypeMask = 0xF000, DirectoryType = 0x4000, GroupOrOther = 0x3F;
        if (FileIdentity.OfPath(directory, followLinks: false) is not { } d || (d.Mode & TypeMask) != DirectoryType || d.Owner != user || (d.Mode & GroupOrOther) != 0)
            return null;
        string path = Path.Combine(directory, "jit-debug-1.so");
        try
        {
            if (!File.Exists(path) || !File.ReadAllBytes(path).AsSpan().SequenceEqual(image))
            {
                string temporary = Path.Combine(directory, $".jit-debug-{Environment.ProcessId}-{Guid.NewGuid():N}.so");
                File.WriteAllBytes(temporary, image);
                File.Move(temporary, path, overwrite: true);
            }
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        return path;
    }

    /// <summary>Adds a symbol file (copied into native memory) to the list and tells an attached debugger. Returns the
    /// entry, for <see cref="Unregister"/>.</summary>
    public static nint Register(ReadOnlySpan<byte> symbolFile)
    {
        byte* copy = (byte*)NativeMemory.Alloc((nuint)symbolFile.Length);
        symbolFile.CopyTo(new Span<byte>(copy, symbolFile.Length));
        var entry = (CodeEntry*)NativeMemory.AllocZeroed((nuint)sizeof(CodeEntry));
        entry->SymbolFile = copy;
        entry->SymbolFileSize = (ulong)symbolFile.Length;
        lock (s_lock)
        {
            if (s_descriptor == null) throw new InvalidOperationException("the GDB JIT interface was not initialized");
            entry->Next = s_descriptor->FirstEntry;
            if (entry->Next != null) entry->Next->Previous = entry;
            s_descriptor->FirstEntry = entry;
            Notify(entry, RegisterAction);
        }
        return (nint)entry;
    }

    /// <summary>Removes an entry from the list, tells an attached debugger, and frees it.</summary>
    public static void Unregister(nint handle)
    {
        var entry = (CodeEntry*)handle;
        lock (s_lock)
        {
            if (entry->Previous != null) entry->Previous->Next = entry->Next;
            else s_descriptor->FirstEntry = entry->Next;
            if (entry->Next != null) entry->Next->Previous = entry->Previous;
            Notify(entry, UnregisterAction);
        }
        NativeMemory.Free(entry->SymbolFile);
        NativeMemory.Free(entry);
    }

    /// <summary>The symbol files in the list, newest first: what a debugger would read (for tests and diagnostics).</summary>
    public static List<byte[]> Entries()
    {
        var files = new List<byte[]>();
        lock (s_lock)
        {
            if (s_descriptor == null) return files;
            for (CodeEntry* e = s_descriptor->FirstEntry; e != null; e = e->Next)
                files.Add(new ReadOnlySpan<byte>(e->SymbolFile, (int)e->SymbolFileSize).ToArray());
        }
        return files;
    }

    private static void Notify(CodeEntry* entry, uint action)
    {
        s_descriptor->RelevantEntry = entry;
        s_descriptor->ActionFlag = action;
        s_registerCode();
        s_descriptor->ActionFlag = NoAction;
    }
}
