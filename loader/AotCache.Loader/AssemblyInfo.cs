using System.Runtime.CompilerServices;
using System.Runtime.Versioning;

// Loading maps executable memory with Linux system calls (Memory/LinuxMemory.cs) and runs System V x86-64 code: callers
// get CA1416 unless they run on Linux, or say they do. Reading, validating and writing caches (AotCache.Reader,
// AotCache.Writer) work anywhere.
[assembly: SupportedOSPlatform("linux")]

[assembly: InternalsVisibleTo("AotCache.ConformanceTests")]

// The bench measures the physical floor (map, hash, one mapping, copy, one mprotect) with the loader's own memory layer.
[assembly: InternalsVisibleTo("aotcache-bench")]
