using Redox.Lab.Server.Symbols;

namespace Redox.Lab.Server.Tests.Symbols;

public sealed class RustDemanglerTests
{
    [Theory]
    // Legacy: the crate hash dropped, "$..$" escapes and ".." as "::".
    [InlineData("_ZN6kernel6memory15allocate_frames17h0123456789abcdefE", "kernel::memory::allocate_frames")]
    [InlineData("_ZN4core3ptr46drop_in_place$LT$alloc..vec..Vec$LT$u8$GT$$GT$17h6f1ac3a6f3a4a4a1E", "core::ptr::drop_in_place<alloc::vec::Vec<u8>>")]
    [InlineData("_ZN66_$LT$kernel..context..Context$u20$as$u20$core..ops..drop..Drop$GT$4drop17h0000000000000001E", "<kernel::context::Context as core::ops::drop::Drop>::drop")]
    [InlineData("_ZN6kernel5panic13panic_handler17h9c7e9c3a1f2b4d5eE.llvm.1234", "kernel::panic::panic_handler")]
    // v0 (RFC 2603's examples and shapes rustc emits).
    [InlineData("_RNvNtCs1234_6kernel6memory15allocate_frames", "kernel::memory::allocate_frames")]
    [InlineData("_RNvCsdjAlEKYAUKJ_7mycrate4main", "mycrate::main")]
    [InlineData("_RINvNtC3std3mem8align_ofjEC3foo", "std::mem::align_of::<usize>")]
    [InlineData("_RNvMNtCs1234_6kernel7contextNtB2_7Context6switch", "<kernel::context::Context>::switch")]
    [InlineData("_RNvXCs1234_6kernelNtB2_5FrameNtNtCs5678_4core3fmt5Debug3fmt", "<kernel::Frame as core::fmt::Debug>::fmt")]
    [InlineData("_RNCNvCs1234_6kernel4main0B3_", "kernel::main::{closure#0}")]
    [InlineData("_RINvCs1234_6kernel4copyRShEB2_", "kernel::copy::<&[u8]>")]
    public void Demangle_RustNames_ReadableWithoutHashes(string mangled, string expected)
    {
        Assert.Equal(expected, RustDemangler.Demangle(mangled));
    }

    [Theory]
    [InlineData("kmain")]
    [InlineData("_ZN3foo")]          // cut short
    [InlineData("_RNvB9999_3foo")]   // back-reference forward
    [InlineData("_Z3fooi")]          // C++, not Rust
    public void Demangle_NotARustNameThisReads_Null(string name)
    {
        Assert.Null(RustDemangler.Demangle(name));
    }
}
