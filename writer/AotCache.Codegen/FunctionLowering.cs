using AotCache.Codegen.Ir;
using AotCache.Format;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace AotCache.Codegen;

/// <summary>
/// Lowers one IR function. Frame: <c>rbp</c>-based; local i at <c>[rbp − 8(i+1)]</c>, then expression
/// temporaries. Expressions leave i64 results in <c>rax</c> and f64 results in <c>xmm0</c>; a binary
/// operation spills its left operand to a temporary while the right one is computed. The frame is a
/// multiple of 16 bytes, so <c>rsp</c> is 16-byte aligned at every call (System V). Every function gets unwind
/// information describing this frame.
/// </summary>
internal sealed class FunctionLowering
{
    private static readonly AssemblerRegister64[] IntArgs = [rdi, rsi, rdx, rcx, r8, r9];
    private static readonly AssemblerRegisterXMM[] FloatArgs = [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7];

    private readonly IrChecker _checker;
    private readonly IrFunction _f;
    private readonly IrCompileOptions _options;
    private readonly FunctionAssembler _fa;
    private readonly Assembler _a;
    private Label _epilogue;
    private int _importSites, _globalSites;

    public FunctionLowering(ISymbolScope scope, IrChecker checker, IrFunction f, IrCompileOptions options)
    {
        _checker = checker;
        _f = f;
        _options = options;
        _fa = new FunctionAssembler(scope);
        _a = _fa.Asm;
    }

    public FunctionBody Lower()
    {
        int temps = _f.Body.Select(StmtTemps).DefaultIfEmpty(0).Max();
        int frame = (_f.LocalCount + temps) * 8;
        frame = (frame + 15) & ~15;
        _epilogue = _a.CreateLabel("epilogue");

        // The frame and its unwind information (FORMAT.md §19): after push rbp the CFA is rsp + 16 with rbp saved below
        // the return address; after mov rbp, rsp it is rbp + 16 until the epilogue's pop rbp.
        _a.push(rbp);
        _fa.Unwind(CfaInstruction.DefCfaOffset(16));
        _fa.Unwind(CfaInstruction.SavedAt(DwarfRegister.Rbp, -16));
        _a.mov(rbp, rsp);
        _fa.Unwind(CfaInstruction.DefCfaRegister(DwarfRegister.Rbp));
        if (frame > 0) _a.sub(rsp, frame);
        int ints = 0, floats = 0;
        for (int i = 0; i < _f.Parameters.Length; i++)
        {
            if (_f.Parameters[i] == IrType.I64) _a.mov(Slot(i), IntArgs[ints++]);
            else _a.movsd(Slot(i), FloatArgs[floats++]);
        }
        if (_f.Locals.Length > 0)
        {
            _a.xor(eax, eax);
            for (int i = _f.Parameters.Length; i < _f.LocalCount; i++) _a.mov(Slot(i), rax);
        }
        foreach (IrStmt s in _f.Body) Stmt(s);
        // Falling off the end returns zero.
        _a.xor(eax, eax);
        _a.xorps(xmm0, xmm0);
        Place(ref _epilogue);
        _a.mov(rsp, rbp);
        _a.pop(rbp);
        _fa.Unwind(CfaInstruction.DefCfa(DwarfRegister.Rsp, 8));
        _a.ret();
        return _fa.Finish(IrCompiler.SignatureOf(_f.Parameters, _f.Result)) with { ContentHash = _options.ContentHash?.Invoke(_f) ?? default };
    }

    /// <summary>Places a label on a zero-byte instruction: Iced allows one label per instruction, and
    /// nested ends of blocks would otherwise share one.</summary>
    private void Place(ref Label label)
    {
        _a.Label(ref label);
        _a.zero_bytes();
    }

    private AssemblerMemoryOperand Slot(int local) => __qword_ptr[rbp - 8 * (local + 1)];

    private AssemblerMemoryOperand Temp(int depth) => Slot(_f.LocalCount + depth);

    // ---- statements ------------------------------------------------------------------------

    private void Stmt(IrStmt s)
    {
        switch (s)
        {
            case IrAssign a:
                Expr(a.Value, 0);
                Store(Slot(a.Local), _f.LocalType(a.Local));
                break;
            case IrStoreGlobal g:
                Expr(g.Value, 0);
                StoreGlobal(g.Global);
                break;
            case IrIf i:
            {
                Label otherwise = _a.CreateLabel(), end = _a.CreateLabel();
                Expr(i.Condition, 0);
                _a.test(rax, rax);
                _a.jz(otherwise);
                foreach (IrStmt t in i.Then) Stmt(t);
                _a.jmp(end);
                Place(ref otherwise);
                foreach (IrStmt t in i.Else) Stmt(t);
                Place(ref end);
                break;
            }
            case IrWhile w:
            {
                Label top = _a.CreateLabel(), end = _a.CreateLabel();
                Place(ref top);
                Expr(w.Condition, 0);
                _a.test(rax, rax);
                _a.jz(end);
                foreach (IrStmt t in w.Body) Stmt(t);
                _a.jmp(top);
                Place(ref end);
                break;
            }
            case IrReturn r:
                if (r.Value is not null) Expr(r.Value, 0);
                _a.jmp(_epilogue);
                break;
            case IrExprStmt e:
                if (e.Value is IrCall call) Call(call, 0);
                else Expr(e.Value, 0);
                break;
            default:
                throw new IrException($"{_f.Name}: unknown statement {s.GetType().Name}");
        }
    }

    private void Store(AssemblerMemoryOperand slot, IrType type)
    {
        if (type == IrType.I64) _a.mov(slot, rax); else _a.movsd(slot, xmm0);
    }

    private void Load(AssemblerMemoryOperand slot, IrType type)
    {
        if (type == IrType.I64) _a.mov(rax, slot); else _a.movsd(xmm0, slot);
    }

    // ---- expressions -----------------------------------------------------------------------

    /// <summary>Evaluates <paramref name="e"/> into rax or xmm0, using temporaries from <paramref name="depth"/> on.</summary>
    private IrType Expr(IrExpr e, int depth)
    {
        switch (e)
        {
            case IrConstI64 c:
                LoadConstant(c.Value);
                return IrType.I64;
            case IrConstF64 c:
                _a.mov(rax, BitConverter.DoubleToInt64Bits(c.Value));
                _a.movq(xmm0, rax);
                return IrType.F64;
            case IrLocal l:
            {
                IrType t = _f.LocalType(l.Index);
                Load(Slot(l.Index), t);
                return t;
            }
            case IrLoadGlobal g:
                return LoadGlobal(g.Global);
            case IrUnary u:
                return Unary(u, depth);
            case IrBinary b:
                return Binary(b, depth);
            case IrCompare c:
                Compare(c, depth);
                return IrType.I64;
            case IrLogical g:
                Logical(g, depth);
                return IrType.I64;
            case IrCall call:
                return Call(call, depth) ?? throw new IrException($"{_f.Name}: '{call.Callee}' has no result");
            default:
                throw new IrException($"{_f.Name}: unknown expression {e.GetType().Name}");
        }
    }

    private IrType Unary(IrUnary u, int depth)
    {
        IrType t = Expr(u.Operand, depth);
        switch (u.Op)
        {
            case IrUnaryOp.Neg when t == IrType.I64:
                _a.neg(rax);
                return t;
            case IrUnaryOp.Neg:
                // Flip the sign bit: exact for zeros and NaNs, unlike 0 − x.
                _a.mov(rax, unchecked((long)0x8000_0000_0000_0000));
                _a.movq(xmm1, rax);
                _a.xorpd(xmm0, xmm1);
                return t;
            case IrUnaryOp.Not:
                _a.not(rax);
                return t;
            case IrUnaryOp.I64ToF64:
                _a.cvtsi2sd(xmm0, rax);
                return IrType.F64;
            case IrUnaryOp.F64ToI64:
                _a.cvttsd2si(rax, xmm0); // NaN and out-of-range give 0x8000000000000000
                return IrType.I64;
            default:
                throw new IrException($"{_f.Name}: {u.Op} of {t}");
        }
    }

    /// <summary>The shortest load of a constant into rax: <c>xor eax, eax</c> (2 bytes), <c>mov eax, imm32</c> (5, zero
    /// extended), <c>mov rax, imm32</c> (7, sign extended) or <c>mov rax, imm64</c> (10).</summary>
    private void LoadConstant(long value)
    {
        if (value == 0) _a.xor(eax, eax);
        else if (value > 0 && value <= uint.MaxValue) _a.mov(eax, (uint)value);
        else if (value >= int.MinValue && value <= int.MaxValue) _a.mov(rax, (int)value);
        else _a.mov(rax, value);
    }

    /// <summary>An i64 right operand that needs no register of its own: a constant that fits a sign-extended imm32,
    /// or a local read straight from its slot. The left operand then goes to rax with no temporary.</summary>
    private bool IsSimpleI64(IrExpr right, out int? constant, out int? local)
    {
        constant = right is IrConstI64 { Value: >= int.MinValue and <= int.MaxValue } c ? (int)c.Value : null;
        local = right is IrLocal l && _f.LocalType(l.Index) == IrType.I64 ? l.Index : null;
        return constant is not null || local is not null;
    }

    /// <summary>Left operand into temp[depth], right into rcx/xmm1, left back into rax/xmm0.</summary>
    private IrType Operands(IrExpr left, IrExpr right, int depth)
    {
        IrType t = Expr(left, depth);
        Store(Temp(depth), t);
        Expr(right, depth + 1);
        if (t == IrType.I64)
        {
            _a.mov(rcx, rax);
            _a.mov(rax, Temp(depth));
        }
        else
        {
            _a.movapd(xmm1, xmm0);
            _a.movsd(xmm0, Temp(depth));
        }
        return t;
    }

    private IrType Binary(IrBinary b, int depth)
    {
        if (b.Op is not (IrBinaryOp.Div or IrBinaryOp.Rem) && IsSimpleI64(b.Right, out int? constant, out int? local))
        {
            Expr(b.Left, depth); // i64 too: the checker gives both operands one type
            if (constant is int imm) BinaryImmediate(b.Op, imm);
            else BinarySlot(b.Op, Slot(local!.Value));
            return IrType.I64;
        }
        IrType t = Operands(b.Left, b.Right, depth);
        if (t == IrType.F64) return FloatBinary(b.Op);
        switch (b.Op)
        {
            case IrBinaryOp.Add: _a.add(rax, rcx); break;
            case IrBinaryOp.Sub: _a.sub(rax, rcx); break;
            case IrBinaryOp.Mul: _a.imul(rax, rcx); break;
            case IrBinaryOp.And: _a.and(rax, rcx); break;
            case IrBinaryOp.Or: _a.or(rax, rcx); break;
            case IrBinaryOp.Xor: _a.xor(rax, rcx); break;
            case IrBinaryOp.Shl: _a.shl(rax, cl); break; // x86 masks the count to 6 bits, as the IR defines
            case IrBinaryOp.Shr: _a.sar(rax, cl); break;
            case IrBinaryOp.Div:
            case IrBinaryOp.Rem:
                DivRem(b.Op == IrBinaryOp.Div);
                break;
        }
        return t;
    }

    private IrType FloatBinary(IrBinaryOp op)
    {
        switch (op)
        {
            case IrBinaryOp.Add: _a.addsd(xmm0, xmm1); break;
            case IrBinaryOp.Sub: _a.subsd(xmm0, xmm1); break;
            case IrBinaryOp.Mul: _a.mulsd(xmm0, xmm1); break;
            case IrBinaryOp.Div: _a.divsd(xmm0, xmm1); break;
            default: throw new IrException($"{_f.Name}: {op} of f64");
        }
        return IrType.F64;
    }

    /// <summary>rax = rax op imm (sign-extended 32-bit); shift counts are masked to 6 bits, as the IR defines.</summary>
    private void BinaryImmediate(IrBinaryOp op, int imm)
    {
        switch (op)
        {
            case IrBinaryOp.Add: _a.add(rax, imm); break;
            case IrBinaryOp.Sub: _a.sub(rax, imm); break;
            case IrBinaryOp.Mul: _a.imul(rax, rax, imm); break;
            case IrBinaryOp.And: _a.and(rax, imm); break;
            case IrBinaryOp.Or: _a.or(rax, imm); break;
            case IrBinaryOp.Xor: _a.xor(rax, imm); break;
            case IrBinaryOp.Shl: _a.shl(rax, (byte)(imm & 63)); break;
            case IrBinaryOp.Shr: _a.sar(rax, (byte)(imm & 63)); break;
            default: throw new IrException($"{_f.Name}: {op} with an immediate");
        }
    }

    /// <summary>rax = rax op [slot].</summary>
    private void BinarySlot(IrBinaryOp op, AssemblerMemoryOperand slot)
    {
        switch (op)
        {
            case IrBinaryOp.Add: _a.add(rax, slot); break;
            case IrBinaryOp.Sub: _a.sub(rax, slot); break;
            case IrBinaryOp.Mul: _a.imul(rax, slot); break;
            case IrBinaryOp.And: _a.and(rax, slot); break;
            case IrBinaryOp.Or: _a.or(rax, slot); break;
            case IrBinaryOp.Xor: _a.xor(rax, slot); break;
            case IrBinaryOp.Shl: _a.mov(rcx, slot); _a.shl(rax, cl); break;
            case IrBinaryOp.Shr: _a.mov(rcx, slot); _a.sar(rax, cl); break;
            default: throw new IrException($"{_f.Name}: {op} with a memory operand");
        }
    }

    /// <summary>Total division: x/0 = x%0 = 0, MIN/−1 = MIN, MIN%−1 = 0 (idiv would trap on both).</summary>
    private void DivRem(bool quotient)
    {
        Label zero = _a.CreateLabel(), minusOne = _a.CreateLabel(), done = _a.CreateLabel();
        _a.test(rcx, rcx);
        _a.jz(zero);
        _a.cmp(rcx, -1);
        _a.je(minusOne);
        _a.cqo();
        _a.idiv(rcx);
        if (!quotient) _a.mov(rax, rdx);
        _a.jmp(done);
        Place(ref minusOne);
        if (quotient) _a.neg(rax); else _a.xor(eax, eax); // −x wraps to MIN for MIN
        _a.jmp(done);
        Place(ref zero);
        _a.xor(eax, eax);
        Place(ref done);
    }

    private void Compare(IrCompare c, int depth)
    {
        IrType t;
        if (IsSimpleI64(c.Right, out int? constant, out int? local))
        {
            t = Expr(c.Left, depth);
            if (constant is int imm) _a.cmp(rax, imm); else _a.cmp(rax, Slot(local!.Value));
        }
        else
        {
            t = Operands(c.Left, c.Right, depth);
            if (t == IrType.I64) _a.cmp(rax, rcx);
        }
        if (t == IrType.I64)
        {
            switch (c.Op)
            {
                case IrCompareOp.Eq: _a.sete(al); break;
                case IrCompareOp.Ne: _a.setne(al); break;
                case IrCompareOp.Lt: _a.setl(al); break;
                case IrCompareOp.Le: _a.setle(al); break;
                case IrCompareOp.Gt: _a.setg(al); break;
                case IrCompareOp.Ge: _a.setge(al); break;
            }
        }
        else
        {
            // ucomisd sets ZF, PF and CF on unordered (NaN) operands: every test below is false for NaN except Ne.
            switch (c.Op)
            {
                case IrCompareOp.Eq: _a.ucomisd(xmm0, xmm1); _a.sete(al); _a.setnp(cl); _a.and(al, cl); break;
                case IrCompareOp.Ne: _a.ucomisd(xmm0, xmm1); _a.setne(al); _a.setp(cl); _a.or(al, cl); break;
                case IrCompareOp.Gt: _a.ucomisd(xmm0, xmm1); _a.seta(al); break;
                case IrCompareOp.Ge: _a.ucomisd(xmm0, xmm1); _a.setae(al); break;
                case IrCompareOp.Lt: _a.ucomisd(xmm1, xmm0); _a.seta(al); break;
                case IrCompareOp.Le: _a.ucomisd(xmm1, xmm0); _a.setae(al); break;
            }
        }
        _a.movzx(eax, al);
    }

    /// <summary>Right operand only when the left one does not decide: And stops at zero, Or at non-zero.</summary>
    private void Logical(IrLogical g, int depth)
    {
        Label done = _a.CreateLabel();
        Expr(g.Left, depth);
        _a.test(rax, rax);
        if (g.Op == IrLogicalOp.And) _a.jz(done); else _a.jnz(done);
        Expr(g.Right, depth);
        _a.test(rax, rax);
        Place(ref done);
        _a.setne(al);
        _a.movzx(eax, al);
    }

    private IrType? Call(IrCall call, int depth)
    {
        var (parameters, result) = _checker.Callee(call.Callee);
        // Every argument but the last goes to a temporary (evaluating a later one may call out); the last goes from
        // rax/xmm0 straight to its register, and then the others are loaded around it.
        int last = call.Arguments.Length - 1;
        for (int i = 0; i < last; i++)
        {
            IrType t = Expr(call.Arguments[i], depth + i);
            Store(Temp(depth + i), t);
        }
        var registers = new (AssemblerRegister64? Int, AssemblerRegisterXMM? Float)[parameters.Count];
        int ints = 0, floats = 0;
        for (int i = 0; i < parameters.Count; i++)
            registers[i] = parameters[i] == IrType.I64 ? (IntArgs[ints++], null) : (null, FloatArgs[floats++]);
        if (last >= 0)
        {
            Expr(call.Arguments[last], depth + last);
            if (registers[last].Int is { } r) _a.mov(r, rax);
            else if (registers[last].Float is { } x && x != xmm0) _a.movapd(x, xmm0);
        }
        for (int i = 0; i < last; i++)
        {
            if (registers[i].Int is { } r) _a.mov(r, Temp(depth + i));
            else _a.movsd(registers[i].Float!.Value, Temp(depth + i));
        }
        string target = call.Callee;
        bool import = _fa.Scope.Get(target).Kind == SymbolKind.ImportFunction;
        bool viaSlot = import && _options.ImportCalls switch
        {
            ImportCallStyle.Slot => true,
            ImportCallStyle.Mixed => _importSites++ % 2 == 1,
            _ => false,
        };
        if (viaSlot) _fa.CallViaSlot(target); else _fa.Call(target);
        return result;
    }

    private bool AbsoluteGlobalAccess() => _options.GlobalAccess switch
    {
        GlobalAccessStyle.Absolute => true,
        GlobalAccessStyle.Mixed => _globalSites++ % 2 == 1,
        _ => false,
    };

    private IrType LoadGlobal(string name)
    {
        IrGlobal g = _checker.Global(name);
        string data = name;
        if (AbsoluteGlobalAccess())
        {
            _fa.LoadAbsoluteAddress(Iced.Intel.Register.RCX, data);
            if (g.Type == IrType.I64) _a.mov(rax, __qword_ptr[rcx]); else _a.movsd(xmm0, __qword_ptr[rcx]);
        }
        else if (g.Type == IrType.I64)
            _fa.DataAccess(Instruction.Create(Code.Mov_r64_rm64, Iced.Intel.Register.RAX, FunctionAssembler.RipOperand()), data);
        else
            _fa.DataAccess(Instruction.Create(Code.Movsd_xmm_xmmm64, Iced.Intel.Register.XMM0, FunctionAssembler.RipOperand()), data);
        return g.Type;
    }

    private void StoreGlobal(string name)
    {
        IrGlobal g = _checker.Global(name);
        string data = name;
        if (AbsoluteGlobalAccess())
        {
            _fa.LoadAbsoluteAddress(Iced.Intel.Register.RCX, data);
            if (g.Type == IrType.I64) _a.mov(__qword_ptr[rcx], rax); else _a.movsd(__qword_ptr[rcx], xmm0);
        }
        else if (g.Type == IrType.I64)
            _fa.DataAccess(Instruction.Create(Code.Mov_rm64_r64, FunctionAssembler.RipOperand(), Iced.Intel.Register.RAX), data);
        else
            _fa.DataAccess(Instruction.Create(Code.Movsd_xmmm64_xmm, FunctionAssembler.RipOperand(), Iced.Intel.Register.XMM0), data);
    }

    // ---- frame sizing ----------------------------------------------------------------------

    private static int StmtTemps(IrStmt s) => s switch
    {
        IrAssign a => Temps(a.Value),
        IrStoreGlobal g => Temps(g.Value),
        IrIf i => Math.Max(Temps(i.Condition), i.Then.Concat(i.Else).Select(StmtTemps).DefaultIfEmpty(0).Max()),
        IrWhile w => Math.Max(Temps(w.Condition), w.Body.Select(StmtTemps).DefaultIfEmpty(0).Max()),
        IrReturn r => r.Value is null ? 0 : Temps(r.Value),
        IrExprStmt e => Temps(e.Value),
        _ => 0,
    };

    /// <summary>Temporaries an expression needs below its own depth.</summary>
    private static int Temps(IrExpr e) => e switch
    {
        IrUnary u => Temps(u.Operand),
        IrBinary b => Math.Max(Temps(b.Left), 1 + Temps(b.Right)),
        IrCompare c => Math.Max(Temps(c.Left), 1 + Temps(c.Right)),
        IrLogical g => Math.Max(Temps(g.Left), Temps(g.Right)),
        IrCall call => call.Arguments.Select((a, i) => i + Math.Max(1, Temps(a))).DefaultIfEmpty(0).Max(),
        _ => 0,
    };
}
