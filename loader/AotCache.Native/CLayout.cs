namespace AotCache.Native;

/// <summary>
/// Field offsets of the structs in aotcache.h (x86-64 System V: pointers and size_t are 8 bytes). The C tests assert
/// the same numbers with offsetof, so a change on either side fails there.
/// </summary>
internal static class CLayout
{
    /// <summary><c>aotcache_error</c>, 32 bytes.</summary>
    public static class Error
    {
        public const int Status = 0, Code = 4, Offset = 8, Requirement = 16, Message = 24, Size = 32;
    }

    /// <summary><c>aotcache_relocation</c>, 32 bytes.</summary>
    public static class Relocation
    {
        public const int Offset = 0, Kind = 4, Reserved = 6, Target = 8, Addend = 16, ExpectedSignatureHash = 24, Size = 32;
    }

    /// <summary><c>aotcache_dependency</c>, 24 bytes.</summary>
    public static class Dependency
    {
        public const int Target = 0, ExpectedContentHash = 8, Size = 24;
    }

    /// <summary><c>aotcache_function_body</c>, 96 bytes.</summary>
    public static class FunctionBody
    {
        public const int Code = 0, CodeSize = 8, Signature = 16, SignatureSize = 24, Relocations = 32, RelocationCount = 40,
            Dependencies = 48, DependencyCount = 56, Alignment = 64, Reserved = 68, RequiredCpuFeatures = 72, ContentHash = 80, Size = 96;
    }

    /// <summary><c>aotcache_value</c>, 16 bytes: the type, then the value in the low bytes of an 8-byte union.</summary>
    public static class Value
    {
        public const int Type = 0, Reserved = 4, Bits = 8, Size = 16;
    }
}
