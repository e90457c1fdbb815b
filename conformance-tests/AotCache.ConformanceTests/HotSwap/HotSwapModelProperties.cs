using AotCache.Format;
using AotCache.Loader;
using AotCache.Reader;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static AotCache.ConformanceTests.HotSwap.SwapCode;

namespace AotCache.ConformanceTests.HotSwap;

/// <summary>
/// Model-based test: random sequences of add / redefine / remove / signature change / commit against a
/// plain model. After every transaction the loaded module returns what the model predicts, and the
/// refused commits and their stale sets are exactly the model's.
/// </summary>
public class HotSwapModelProperties
{
    /// <summary>A function of the model: f() = constant + Σ callee(0); callees have lower rank (no cycles).</summary>
    private sealed record Fn(string Name, int Rank, int Constant, bool OneParam, IReadOnlyList<(string Callee, bool CompiledOneParam)> Calls);

    private sealed record Change(string Name, Fn? Definition); // null: remove

    public sealed record Scenario(int Seed, int Steps)
    {
        public override string ToString() => $"seed {Seed}, {Steps} steps";
    }

    public static class Arbitraries
    {
        public static Arbitrary<Scenario> Scenarios() =>
            (from seed in Gen.Choose(0, int.MaxValue) from steps in Gen.Choose(1, 12) select new Scenario(seed, steps)).ToArbitrary();
    }

    public sealed class Stats
    {
        public int Committed, Refused, SignatureChanges, Removals;
    }

    [Property(MaxTest = 1000, Arbitrary = [typeof(Arbitraries)])]
    public bool The_module_always_matches_the_model(Scenario scenario) => Run(scenario, new Stats());

    [Fact]
    public void The_scenarios_exercise_commits_refusals_signature_changes_and_removals()
    {
        var stats = new Stats();
        for (int seed = 0; seed < 150; seed++) Run(new Scenario(seed, 10), stats);
        Assert.True(stats.Committed > 100, $"{stats.Committed} commits");
        Assert.True(stats.Refused > 20, $"{stats.Refused} refusals");
        Assert.True(stats.SignatureChanges > 20, $"{stats.SignatureChanges} committed signature changes");
        Assert.True(stats.Removals > 20, $"{stats.Removals} committed removals");
    }

    private static bool Run(Scenario scenario, Stats stats)
    {
        var rng = new Random(scenario.Seed);
        int nextRank = 0, nextName = 0;
        var model = new Dictionary<string, Fn>();
        // Initial module: 1..5 functions.
        for (int i = rng.Next(1, 6); i > 0; i--)
        {
            var fn = NewFunction($"f{nextName++}", nextRank++, model, rng, model);
            model[fn.Name] = fn;
        }
        var ordered = model.Values.OrderBy(f => f.Rank).ToList();
        byte[] file = Module([.. ordered.Select(f => (f.Name, f.Constant, Sig(f.OneParam), (IReadOnlyList<Call>)[.. f.Calls.Select(c => new Call(c.Callee, Sig(c.CompiledOneParam)))]))]);
        using var image = CacheImage.Read(file);
        using var module = LoadedModule.Load(image, new LoadOptions { LinkMode = LinkMode.HotSwappable, AddCapacity = 200 });
        Check(module, model);

        for (int step = 0; step < scenario.Steps; step++)
        {
            // A transaction of 1..3 changes to distinct functions.
            var changes = new Dictionary<string, Change>();
            for (int c = rng.Next(1, 4); c > 0; c--)
            {
                int op = rng.Next(4);
                var existing = model.Keys.Where(k => !changes.ContainsKey(k)).Order().ToList();
                if (op == 0 || existing.Count == 0)
                {
                    string name = $"f{nextName++}";
                    changes[name] = new Change(name, NewFunction(name, nextRank++, model, rng, Result(model, changes)));
                }
                else
                {
                    Fn old = model[existing[rng.Next(existing.Count)]];
                    changes[old.Name] = op == 3
                        ? new Change(old.Name, null)
                        : new Change(old.Name, NewFunction(old.Name, old.Rank, model, rng, Result(model, changes), keepSignature: op == 1 ? old.OneParam : null));
                }
            }
            // New code is compiled against what its callees will be after the transaction.
            var after = Result(model, changes);
            foreach (var (name, change) in changes.ToList())
                if (change.Definition is { } d)
                    changes[name] = change with { Definition = d with { Calls = [.. d.Calls.Where(c => after.ContainsKey(c.Callee)).Select(c => (c.Callee, after[c.Callee].OneParam))] } };
            after = Result(model, changes);

            // The model's verdict: unchanged functions whose callee is removed or changes signature are stale.
            var expectedStale = model.Values
                .Where(f => !changes.ContainsKey(f.Name))
                .Where(f => f.Calls.Any(c => changes.TryGetValue(c.Callee, out var ch) && (ch.Definition is null || ch.Definition.OneParam != c.CompiledOneParam)))
                .Select(f => f.Name).Order().ToList();

            var tx = module.BeginUpdate();
            foreach (var (name, change) in changes)
            {
                if (change.Definition is null) tx.Remove(name);
                else
                {
                    FunctionBody update = Update(change.Definition.Constant, Sig(change.Definition.OneParam),
                        [.. change.Definition.Calls.Select(c => new Call(c.Callee, Sig(c.CompiledOneParam)))]);
                    if (model.ContainsKey(name)) tx.Redefine(name, update); else tx.Add(name, update);
                }
            }
            bool committed = tx.TryCommit(out var stale);
            var actualStale = stale.Select(s => s.Function).Distinct().Order().ToList();
            if (committed != (expectedStale.Count == 0) || !actualStale.SequenceEqual(expectedStale))
                throw new Exception($"{scenario} step {step}: expected stale [{string.Join(", ", expectedStale)}], got committed={committed} [{string.Join(", ", actualStale)}]");
            if (committed)
            {
                stats.Committed++;
                stats.SignatureChanges += changes.Values.Count(c => c.Definition is not null && model.TryGetValue(c.Name, out var old) && old.OneParam != c.Definition.OneParam);
                stats.Removals += changes.Values.Count(c => c.Definition is null);
                model = after;
            }
            else stats.Refused++;
            Check(module, model);
        }
        return true;
    }

    private static Signature Sig(bool oneParam) => oneParam ? OneParam : NoParams;

    private static Dictionary<string, Fn> Result(Dictionary<string, Fn> model, Dictionary<string, Change> changes)
    {
        var result = new Dictionary<string, Fn>(model);
        foreach (var (name, change) in changes)
            if (change.Definition is null) result.Remove(name); else result[name] = change.Definition;
        return result;
    }

    private static Fn NewFunction(string name, int rank, Dictionary<string, Fn> model, Random rng, Dictionary<string, Fn> visible, bool? keepSignature = null)
    {
        var lower = visible.Values.Where(f => f.Rank < rank).OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        var calls = new List<(string, bool)>();
        for (int i = rng.Next(0, 3); i > 0 && lower.Count > 0; i--)
        {
            Fn callee = lower[rng.Next(lower.Count)];
            calls.Add((callee.Name, callee.OneParam));
        }
        return new Fn(name, rank, rng.Next(0, 1000), keepSignature ?? rng.Next(3) == 0, calls);
    }

    private static long Value(Dictionary<string, Fn> model, string name) =>
        model[name].Constant + model[name].Calls.Sum(c => Value(model, c.Callee));

    private static void Check(LoadedModule module, Dictionary<string, Fn> model)
    {
        Assert.Equal(model.Keys.Order(StringComparer.Ordinal), module.FunctionNames);
        foreach (Fn f in model.Values)
        {
            Assert.Equal(Sig(f.OneParam), module.GetSignature(f.Name));
            long actual = module.Invoke(f.Name, f.OneParam ? [Loader.Value.I64(0)] : []).AsI64;
            Assert.Equal(Value(model, f.Name), actual);
        }
    }
}
