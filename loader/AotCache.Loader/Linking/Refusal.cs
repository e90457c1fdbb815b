using AotCache.Format;

namespace AotCache.Loader.Linking;

/// <summary>Why the loader will not run a function: the error code a call into it reports, and the detail.</summary>
internal readonly record struct Refusal(ErrorCode Reason, string Detail);
