using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("AotCache.ConformanceTests")]
