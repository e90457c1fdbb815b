using AotCache.Codegen;
using AotCache.Codegen.Ir;
using AotCache.Loader;
using AotCache.Loader.Linking;
using AotCache.Reader;
using static AotCache.Codegen.Ir.IrType;

namespace AotCache.ConformanceTests.Loading;

/// <summary>
/// <see cref="ImportTable.Add{TDelegate}"/>: delegates of non-generic types become native functions; a generic delegate
/// type is refused by the table with its own message, before the runtime's marshaller sees it.
/// </summary>
public sealed class ImportTableTests
{
    private delegate long Twice(long value);

    [Fact]
    public void A_generic_delegate_type_is_refused_with_the_tables_own_message()
    {
        Func<long, long> generic = v => v * 2;
        var e = Assert.Throws<ArgumentException>(() => new ImportTable().Add("twice", generic));
        Assert.Equal("callback", e.ParamName);
        Assert.Contains("import 'twice'", e.Message);
        Assert.Contains("Func<Int64, Int64> is a generic delegate type", e.Message);
        Assert.Contains("non-generic", e.Message);
        Assert.DoesNotContain("must not be a generic type", e.Message); // the runtime's own wording never leaks out
    }

    [Fact]
    public void A_generic_delegate_passed_as_Delegate_is_refused_the_same_way()
    {
        Delegate generic = new Func<long, long>(v => v * 2);
        var e = Assert.Throws<ArgumentException>(() => new ImportTable().Add("twice", generic));
        Assert.Contains("Func<Int64, Int64> is a generic delegate type", e.Message);
    }

    [Fact]
    public void A_refused_delegate_leaves_the_table_without_the_name()
    {
        var table = new ImportTable();
        Assert.Throws<ArgumentException>(() => table.Add("twice", new Func<long, long>(v => v * 2)));
        Assert.False(table.TryResolve(new ImportRequest("twice", Format.SymbolKind.ImportFunction, null), out _));
    }

    [Fact]
    public void A_non_generic_delegate_is_called_by_loaded_code()
    {
        var module = new IrModule([new IrImport("twice", [I64], I64)], [],
            [new IrFunction("call_twice", [I64], I64, [], [new IrReturn(new IrCall("twice", [new IrLocal(0)]))])]);
        using var image = CacheImage.Read(IrCompiler.Compile(module));
        var table = new ImportTable().Add("twice", new Twice(v => v * 2), IrCompiler.SignatureOf([I64], I64));
        using var loaded = LoadedModule.Load(image, new LoadOptions { Imports = table });
        Assert.Equal(42, loaded.Invoke("call_twice", Value.I64(21)).AsI64);
    }
}
