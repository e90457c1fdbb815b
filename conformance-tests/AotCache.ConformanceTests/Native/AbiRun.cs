using System.Globalization;
using System.Text.RegularExpressions;

namespace AotCache.ConformanceTests.Native;

/// <summary>One line of <c>abi_test</c>'s output: a step and what its call returned (see conformance-tests/c/abi_test.c).</summary>
public sealed record AbiStep(string Name, int Status, int Code, long Offset, string Requirement, string Message, long? Value)
{
    public override string ToString() =>
        $"{Name} status={Status} code={Code} offset={Offset} requirement={Requirement} value={Value} message={Message}";
}

/// <summary>A finished run of <c>abi_test</c>: its steps by name. A run that crashed, or whose own checks failed, fails
/// the test at once with everything it printed.</summary>
public sealed partial class AbiRun
{
    // aotcache_status values (aotcache.h)
    public const int Ok = 0, InvalidArgument = 1, Io = 2, Malformed = 3, Unloadable = 4, SignatureMismatch = 5, NotFound = 6,
        Refused = 7, Stale = 8, Busy = 9, InvalidState = 10;

    private readonly Dictionary<string, AbiStep> _steps = [];

    public string Output { get; }

    private AbiRun(string output)
    {
        Output = output;
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Match m = Line().Match(line);
            if (!m.Success) continue;
            string Group(string name) => m.Groups[name].Value;
            long Number(string name, long missing) => m.Groups[name].Success ? long.Parse(Group(name), CultureInfo.InvariantCulture) : missing;
            string value = Group("value");
            long? parsed = value.Length == 0 ? null
                : value.StartsWith("0x", StringComparison.Ordinal) ? (long)ulong.Parse(value[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : long.Parse(value, CultureInfo.InvariantCulture);
            _steps[Group("step")] = new AbiStep(Group("step"), (int)Number("status", 0), (int)Number("code", 0), Number("offset", -1),
                Group("requirement"), Group("message"), parsed);
        }
    }

    [GeneratedRegex(@"^(?<step>\S+) (status=(?<status>-?\d+))?( value=(?<value>\S+))?( code=(?<code>-?\d+) offset=(?<offset>-?\d+) requirement=(?<requirement>\S*) message=(?<message>.*))?")]
    private static partial Regex Line();

    public static AbiRun Of(NativeToolchain native, params string[] arguments)
    {
        ChildProcess.Result result = ChildProcess.Run(native.AbiTest, arguments, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, $"abi_test {string.Join(' ', arguments)} exited {result.ExitCode} (a crash or a failed check):\n{result.Stdout}\n{result.Stderr}");
        return new AbiRun(result.Stdout);
    }

    public AbiStep this[string step] =>
        _steps.TryGetValue(step, out AbiStep? s) ? s : throw new Xunit.Sdk.XunitException($"abi_test printed no step '{step}':\n{Output}");

    /// <summary>Asserts the step succeeded; returns its value, if any.</summary>
    public long? Succeeded(string step)
    {
        AbiStep s = this[step];
        Assert.True(s.Status == Ok, $"{step} failed: {s}");
        return s.Value;
    }

    /// <summary>Asserts the step failed with this status (and, when given, the spec's error code, requirement and offset).</summary>
    public AbiStep Failed(string step, int status, int? code = null, string? requirement = null, long? offset = null)
    {
        AbiStep s = this[step];
        Assert.True(s.Status == status, $"{step}: expected status {status}, got {s}");
        if (code is { } c) Assert.True(s.Code == c, $"{step}: expected error code {c}, got {s}");
        if (requirement is not null) Assert.True(s.Requirement == requirement, $"{step}: expected requirement {requirement}, got {s}");
        if (offset is { } o) Assert.True(s.Offset == o, $"{step}: expected offset {o}, got {s}");
        if (code is null) Assert.True(s.Code == 0 && s.Offset == -1 && s.Requirement == "", $"{step}: a failure about no file has code 0, offset -1 and no requirement: {s}");
        Assert.False(string.IsNullOrEmpty(s.Message), $"{step}: no message");
        return s;
    }
}
