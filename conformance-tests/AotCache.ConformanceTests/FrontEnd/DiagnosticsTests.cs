namespace AotCache.ConformanceTests.FrontEnd;

/// <summary>Compile errors name the file, line and column, say why, and show the line with a caret.</summary>
public sealed class DiagnosticsTests
{
    public static TheoryData<string, string, string> Cases => new()
    {
        { "stray character", "fn main() -> i64 {\n    return 1 $ 2;\n}\n", "test.nib:2:14: error: unexpected character '$' (U+0024)" },
        { "missing semicolon", "fn main() -> i64 {\n    let x = 1\n    return x;\n}\n", "test.nib:3:5: error: expected ';' after a let statement, found 'return'" },
        { "wrong result type", "fn main() -> i64 {\n    return 1.5;\n}\n", "test.nib:2:12: error: in 'main': 'main' returns i64, but this is f64" },
        { "unknown name", "fn main() -> i64 {\n    return y;\n}\n", "test.nib:2:12: error: in 'main': unknown name 'y'" },
        { "argument count", "fn f(a: i64) -> i64 { return a; }\nfn main() -> i64 {\n    return f(1, 2);\n}\n",
            "test.nib:3:12: error: in 'main': 'f' takes 1 argument, 2 given (fn f(i64) -> i64)" },
        { "argument type", "fn f(a: i64) -> i64 { return a; }\nfn main() -> i64 { return f(2.5); }\n",
            "test.nib:2:29: error: in 'main': argument 1 of 'f' must be i64, not f64" },
        { "chained comparison", "fn main() -> i64 { return 1 < 2 < 3; }\n", "test.nib:1:33: error: comparisons cannot be chained: write 'a < b && b < c'" },
        { "duplicate definition", "fn f() { }\n\nfn f() { }\n", "test.nib:3:4: error: 'f' is already defined at line 1" },
        { "extern against the host", "extern fn print_i64(x: f64);\n",
            "test.nib:1:11: error: the host provides 'print_i64' as 'extern fn print_i64(p0: i64);', not 'extern fn print_i64(f64)'" },
        { "integer too large", "fn main() -> i64 { return 9223372036854775808; }\n", "test.nib:1:27: error: in 'main': the integer '9223372036854775808' does not fit in i64 (only -9223372036854775808 may be written past i64's maximum)" },
        { "integer beyond 64 bits", "fn main() -> i64 { return 0x1_0000_0000_0000_0000; }\n", "test.nib:1:27: error: the integer '0x1_0000_0000_0000_0000' does not fit in 64 bits" },
        { "unclosed block", "fn main() -> i64 {\n    return 1;\n", "test.nib:3:1: error: the block opened at line 1 is never closed: expected '}'" },
        { "mixed operand types", "fn main() -> i64 {\n    let a = 1;\n    let b = 2.0;\n    return a + b;\n}\n",
            "test.nib:4:14: error: in 'main': '+' needs operands of one type, but the left is i64 and the right f64; convert one with 'as'" },
        { "assignment to a const", "const c: i64 = 1;\nfn main() -> i64 {\n    c = 2;\n    return c;\n}\n",
            "test.nib:3:5: error: in 'main': 'c' is a const; declare it with 'var' to assign to it" },
        { "f64 condition", "fn main() -> i64 {\n    if 1.0 { return 1; }\n    return 0;\n}\n",
            "test.nib:2:8: error: in 'main': the condition of 'if' must be i64 (non-zero is true), not f64; compare explicitly, e.g. 'x != 0.0'" },
        { "remainder of f64", "fn main() -> f64 { return 5.0 % 2.0; }\n", "test.nib:1:31: error: in 'main': '%' works on i64 only, and both operands are f64" },
        { "value of a void call", "extern fn print_i64(x: i64);\nfn main() -> i64 { return print_i64(1); }\n",
            "test.nib:2:27: error: in 'main': 'print_i64' returns nothing, so its call has no value" },
        { "too many parameters", "fn f(a: i64, b: i64, c: i64, d: i64, e: i64, g: i64, h: i64) { }\n",
            "test.nib:1:54: error: 'f' has more than 6 i64 or 8 f64 parameters (all are passed in registers)" },
        { "global initializer", "var g: f64 = 1;\n", "test.nib:1:14: error: the initial value of 'g' must be an f64 literal (write 0.0, not 1)" },
        { "shadowing in one block", "fn main() -> i64 {\n    let a = 1;\n    let a = 2;\n    return a;\n}\n",
            "test.nib:3:9: error: in 'main': 'a' is already defined in this block" },
        { "function as value", "fn f() -> i64 { return 1; }\nfn main() -> i64 { return f; }\n",
            "test.nib:2:27: error: in 'main': 'f' is a function; call it with 'f(...)'" },
        { "item keyword in a body", "fn main() -> i64 {\n    fn inner() { }\n}\n",
            "test.nib:2:5: error: 'fn' cannot appear inside a function; is a '}' missing above?" },
        { "top-level statement", "let x = 1;\n", "test.nib:1:1: error: expected 'fn', 'extern fn', 'var' or 'const' at the top level, found 'let'" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_error_names_line_column_and_reason(string name, string source, string expected)
    {
        var errors = Nib.Errors(source);
        Assert.True(errors.Count >= 1, name);
        Assert.Equal(expected, errors[0].ToString().Split('\n')[0]);
    }

    [Fact]
    public void The_message_shows_the_line_and_a_caret_under_the_place()
    {
        var error = Nib.Errors("fn main() -> i64 {\n    return 1 + 2.5;\n}\n").Single();
        Assert.Equal(
            "test.nib:2:14: error: in 'main': '+' needs operands of one type, but the left is i64 and the right f64; convert one with 'as'\n" +
            "      return 1 + 2.5;\n" +
            "               ^",
            error.ToString());
    }

    [Fact]
    public void Errors_in_several_functions_are_all_reported_in_source_order()
    {
        var errors = Nib.Errors("fn a() -> i64 {\n    return x;\n}\nfn b() -> i64 {\n    return 1 +;\n}\nfn c() -> i64 {\n    return 2.0;\n}\n");
        Assert.Equal([(2, 12), (5, 15), (8, 12)], errors.Select(e => e.Position));
    }

    [Fact]
    public void A_function_whose_body_does_not_parse_is_still_declared_so_its_callers_report_nothing()
    {
        var errors = Nib.Errors("fn f(x: i64) -> i64 {\n    return x +;\n}\nfn main() -> i64 {\n    return f(1) + f(2);\n}\n");
        Assert.Equal("test.nib:2:15: error: expected an expression, found ';'", errors.Single().ToString().Split('\n')[0]);
    }

    [Fact]
    public void The_check_command_prints_errors_and_exits_1()
    {
        string directory = Directory.CreateTempSubdirectory("nib-check-").FullName;
        try
        {
            string path = Path.Combine(directory, "bad.nib");
            File.WriteAllText(path, "fn main() -> i64 {\n    return y;\n}\n");
            var (exit, _, err) = Nib.Cli("check", path);
            Assert.Equal(AotCache.Demo.Program.ExitCompileError, exit);
            Assert.Contains("bad.nib:2:12: error: in 'main': unknown name 'y'", err);
            Assert.EndsWith("check: 1 error\n", err.ReplaceLineEndings("\n")); // check builds nothing, so does not say so
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
