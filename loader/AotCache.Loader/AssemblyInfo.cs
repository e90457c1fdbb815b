using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("AotCache.ConformanceTests")]

// The bench measures the physical floor (map, hash, one mapping, copy, one mprotect) with the loader's own memory layer.
[assembly: InternalsVisibleTo("aotcache-bench")]
