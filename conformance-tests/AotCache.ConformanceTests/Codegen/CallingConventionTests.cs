using AotCache.Codegen;
using AotCache.Format;
using AotCache.Reader;
using AotCache.Writer;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace AotCache.ConformanceTests.Codegen;

/// <summary>
/// [REL-11]: code follows the declared convention at every call through a relocation, because the loader interposes
/// thunks, stubs and swapped bodies there. The part a checker can see in the bytes is the stack: System V wants rsp
/// 16-byte aligned at every call. <see cref="StackDepths"/> follows rsp through each function by data flow over
/// Iced's decoding (pushes, pops, rsp adjustments, the rbp frame) and the test holds the Iced backend's output for
/// generated programs to it.
/// </summary>
public sealed class CallingConventionTests
{
    /// <summary>The bytes below the return address (rsp's distance from its value at entry, minus the 8 of the return
    /// address) at every call of <paramref name="code"/>; throws when a path reaches an instruction with two depths or
    /// moves rsp in a way the checker does not follow.</summary>
    public static List<(ulong Offset, long Depth)> StackDepths(ReadOnlySpan<byte> code)
    {
        var instructions = new Dictionary<ulong, Instruction>();
        var order = new List<ulong>();
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(code.ToArray()));
        while (decoder.IP < (ulong)code.Length)
        {
            decoder.Decode(out Instruction ins);
            if (ins.IsInvalid) throw new InvalidOperationException($"invalid instruction at +0x{ins.IP:x}");
            instructions[ins.IP] = ins;
            order.Add(ins.IP);
        }
        // depth: bytes pushed since entry, counting the return address (8 at entry); frame: the depth rbp was set at.
        var state = new Dictionary<ulong, (long Depth, long Frame)>();
        var work = new Stack<(ulong At, long Depth, long Frame)>();
        work.Push((0, 8, -1));
        var calls = new List<(ulong, long)>();
        while (work.TryPop(out var item))
        {
            (ulong at, long depth, long frame) = item;
            if (!instructions.TryGetValue(at, out Instruction ins)) throw new InvalidOperationException($"a path reaches +0x{at:x}, which is no instruction");
            if (state.TryGetValue(at, out var seen))
            {
                if (seen != (depth, frame)) throw new InvalidOperationException($"+0x{at:x} is reached with rsp depths {seen.Depth} and {depth}");
                continue;
            }
            state[at] = (depth, frame);
            switch (ins.Mnemonic)
            {
                case Mnemonic.Push: depth += 8; break;
                case Mnemonic.Pop: depth -= 8; break;
                case Mnemonic.Sub when ins.Op0Register == Register.RSP && ins.Op1Kind is OpKind.Immediate8to64 or OpKind.Immediate32to64:
                    depth += (long)ins.GetImmediate(1); break;
                case Mnemonic.Add when ins.Op0Register == Register.RSP && ins.Op1Kind is OpKind.Immediate8to64 or OpKind.Immediate32to64:
                    depth -= (long)ins.GetImmediate(1); break;
                case Mnemonic.Mov when ins.Op0Register == Register.RBP && ins.Op1Register == Register.RSP: frame = depth; break;
                case Mnemonic.Mov when ins.Op0Register == Register.RSP && ins.Op1Register == Register.RBP: depth = frame; break;
                case Mnemonic.Leave: depth = frame - 8; break;
                case Mnemonic.Call: calls.Add((ins.IP, depth)); break;
                default:
                    for (int op = 0; op < ins.OpCount; op++)
                        if (ins.GetOpKind(op) == OpKind.Register && ins.GetOpRegister(op) == Register.RSP && op == 0)
                            throw new InvalidOperationException($"+0x{ins.IP:x} ({ins}) moves rsp in a way this checker does not follow");
                    break;
            }
            if (ins.FlowControl is FlowControl.Return or FlowControl.Interrupt or FlowControl.IndirectBranch) continue;
            if (ins.FlowControl is FlowControl.UnconditionalBranch)
            {
                work.Push((ins.NearBranchTarget, depth, frame));
                continue;
            }
            if (ins.FlowControl is FlowControl.ConditionalBranch) work.Push((ins.NearBranchTarget, depth, frame));
            work.Push((ins.NextIP, depth, frame));
        }
        return calls;
    }

    [Fact]
    public void REL_11_the_Iced_backend_keeps_the_stack_16_byte_aligned_at_every_call_of_generated_programs()
    {
        int calls = 0, functions = 0;
        foreach (ImportCallStyle imports in new[] { ImportCallStyle.Thunk, ImportCallStyle.Slot, ImportCallStyle.Mixed })
            for (int i = 0; i < 40; i++)
            {
                DiffProgram p = IrProgramGenerator.Generate(seed: 104_729 * i + 7, size: 5 + i * 2);
                byte[] file = IrCompiler.Compile(p.Module, p.Options with { ImportCalls = imports });
                using var image = CacheImage.Read(file);
                foreach (FunctionRecord f in image.Functions)
                {
                    functions++;
                    string name = image.SymbolName((int)f.Symbol);
                    foreach (var (offset, depth) in StackDepths(image.Code.Slice((int)f.CodeOffset, (int)f.CodeSize)))
                    {
                        calls++;
                        Assert.True(depth % 16 == 0, $"{p}\n{name}+0x{offset:x}: rsp is {depth % 16} bytes off 16 at a call");
                    }
                }
            }
        Assert.True(calls > functions, $"only {calls} calls in {functions} functions: the programs do not exercise calls");
    }

    [Fact]
    public void REL_11_the_checker_sees_a_call_made_with_the_stack_8_bytes_off()
    {
        var b = new CacheBuilder(TargetDescription.LinuxX64);
        var sig = b.AddDeclaration(Signature.SysV([], [ScalarType.I64]));
        b.AddFunction("leaf", new FunctionBody([0xB8, 7, 0, 0, 0, 0xC3], sig.Signature));
        // What gcc's inter-procedural stack alignment does to a same-file callee: no sub rsp, 8 before the call.
        var fa = new FunctionAssembler(b);
        fa.Call("leaf");
        fa.Asm.ret();
        FunctionBody odd = fa.Finish(sig.Signature);
        var depths = StackDepths(odd.Code.AsSpan());
        Assert.Equal(8, Assert.Single(depths).Depth % 16);

        fa = new FunctionAssembler(b);
        fa.Asm.push(rbp);
        fa.Asm.mov(rbp, rsp);
        Label skip = fa.Asm.CreateLabel();
        fa.Asm.test(rdi, rdi);
        fa.Asm.je(skip);
        fa.Asm.push(rax); // only on one path: the paths meet with different depths
        fa.Asm.Label(ref skip);
        fa.Asm.mov(rsp, rbp);
        fa.Asm.pop(rbp);
        fa.Asm.ret();
        FunctionBody unbalanced = fa.Finish(sig.Signature);
        Assert.Contains("reached with rsp depths", Assert.Throws<InvalidOperationException>(() => StackDepths(unbalanced.Code.AsSpan())).Message);
    }
}
