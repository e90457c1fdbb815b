namespace AotCache.ConformanceTests.Spec;

/// <summary>Names a FORMAT.md requirement (or recommendation) a test checks, when the method name cannot say it
/// well. <see cref="RequirementCoverageTests"/> counts it like an ID in the method name.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class RequirementAttribute(string id) : Attribute
{
    /// <summary>The ID, e.g. <c>REL-4</c>.</summary>
    public string Id { get; } = id;
}
