using System.Runtime.CompilerServices;

// The shared-lock protocol (Memory/) is used by the writer's spare writer and by the loader; tests reach internals.
[assembly: InternalsVisibleTo("AotCache.Writer")]
[assembly: InternalsVisibleTo("AotCache.Loader")]
[assembly: InternalsVisibleTo("AotCache.ConformanceTests")]

// cachedump maps the file itself, so that after an error it names the field from the bytes the validator saw.
[assembly: InternalsVisibleTo("cachedump")]

// The bench maps files for its physical floor exactly as the reader does.
[assembly: InternalsVisibleTo("aotcache-bench")]
