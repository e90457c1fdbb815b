using AotCache.Loader.Memory;
using Iced.Intel;

namespace AotCache.ConformanceTests.Loading;

/// <summary>The loader's hand-encoded System V call shim decodes to exactly the intended instructions.</summary>
public class CallShimTests
{
    [Fact]
    public void The_call_shim_decodes_to_the_documented_instructions()
    {
        byte[] code = CallShim.Code.ToArray();
        var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(code));
        var formatter = new IntelFormatter();
        var lines = new List<string>();
        while (decoder.IP < (ulong)code.Length)
        {
            decoder.Decode(out Instruction ins);
            Assert.False(ins.IsInvalid);
            var output = new StringOutput();
            formatter.Format(ins, output);
            lines.Add(output.ToStringAndReset());
        }
        string[] expected =
        [
            "push rbx", "push r12", "push r13", "mov rbx,rcx", "mov r12,rdi", "mov r13,rsi",
            "mov [r8],rsp", "mov [r8+8],rbx", "mov [r8+10h],rbp", "mov [r8+18h],r12", "mov [r8+20h],r13", "mov [r8+28h],r14", "mov [r8+30h],r15",
            $"lea rax,[{CallShim.ResumeOffset:X}h]", "mov [r8+38h],rax",
            "movsd xmm0,[rdx]", "movsd xmm1,[rdx+8]", "movsd xmm2,[rdx+10h]", "movsd xmm3,[rdx+18h]",
            "movsd xmm4,[rdx+20h]", "movsd xmm5,[rdx+28h]", "movsd xmm6,[rdx+30h]", "movsd xmm7,[rdx+38h]",
            "mov rdi,[r13]", "mov rsi,[r13+8]", "mov rdx,[r13+10h]", "mov rcx,[r13+18h]", "mov r8,[r13+20h]", "mov r9,[r13+28h]",
            "mov eax,8", "call r12", "mov [rbx],rax", "movsd [rbx+8],xmm0", "mov qword ptr [rbx+10h],0", "pop r13", "pop r12", "pop rbx", "ret",
            "mov qword ptr [rbx+10h],1", "jmp short 000000000000008Bh",
        ];
        Assert.Equal(expected, lines);
    }

    [Fact]
    public void The_shim_passes_mixed_integer_and_floating_point_arguments()
    {
        // labs from libc through the shim: one integer argument, an integer result.
        nint labs = System.Runtime.InteropServices.NativeLibrary.GetExport(System.Runtime.InteropServices.NativeLibrary.Load("libc.so.6"), "labs");
        Assert.Equal(42, CallShim.Call(labs, [-42], []).Rax);
        // ldexp(double x, int e) = x * 2^e: a double in xmm0 and an int in edi.
        nint ldexp = System.Runtime.InteropServices.NativeLibrary.GetExport(System.Runtime.InteropServices.NativeLibrary.Load("libm.so.6"), "ldexp");
        Assert.Equal(12.0, CallShim.Call(ldexp, [2], [3.0]).Xmm0);
    }
}
