using Redox.Lab.Server.Symbols;

namespace Redox.Lab.Server.Tests.Symbols;

/// <summary>
/// The C++ demangler against binutils' c++filt: the expected strings are c++filt's output (Debian's binutils)
/// for the symbols g++ emitted for a test file of classes, templates, operators, local statics, lambdas and
/// standard containers at -O0 and -O2, plus clone suffixes, thunks and guard variables.
/// </summary>
public sealed class CxxDemanglerTests
{
    [Theory]
    [InlineData("_Z3sumIJidEEvDpT_", "void sum<int, double>(int, double)")]
    [InlineData("_Z4workv.cold", "work() [clone .cold]")]
    [InlineData("_ZGVZN2mm7counterEvE1c", "guard variable for mm::counter()::c")]
    [InlineData("_ZN12_GLOBAL__N_16hiddenEi", "(anonymous namespace)::hidden(int)")]
    [InlineData("_ZN2mm10use_hiddenEv", "mm::use_hidden()")]
    [InlineData("_ZN2mm12_GLOBAL__N_16hiddenEi", "mm::(anonymous namespace)::hidden(int)")]
    [InlineData("_ZN2mm2llEynawDsDife", "mm::ll(unsigned long long, __int128, signed char, wchar_t, char16_t, char32_t, float, long double)")]
    [InlineData("_ZN2mm3lamE", "mm::lam")]
    [InlineData("_ZN2mm4RingIPcLi8EE3popEv", "mm::Ring<char*, 8>::pop()")]
    [InlineData("_ZN2mm4RingIPcLi8EE4pushERKS1_", "mm::Ring<char*, 8>::push(char* const&)")]
    [InlineData("_ZN2mm4RingIiLi4EE3popEv", "mm::Ring<int, 4>::pop()")]
    [InlineData("_ZN2mm4RingIiLi4EE4pushERKi", "mm::Ring<int, 4>::push(int const&)")]
    [InlineData("_ZN2mm4flagILb0EEEiv", "int mm::flag<false>()")]
    [InlineData("_ZN2mm4flagILb1EEEiv", "int mm::flag<true>()")]
    [InlineData("_ZN2mm4listIiE3getEv", "mm::list<int>::get()")]
    [InlineData("_ZN2mm4max2IdEET_S1_S1_", "double mm::max2<double>(double, double)")]
    [InlineData("_ZN2mm4max2IiEET_S1_S1_", "int mm::max2<int>(int, int)")]
    [InlineData("_ZN2mm4scanEPKc.constprop.0.isra.0", "mm::scan(char const*) [clone .constprop.0] [clone .isra.0]")]
    [InlineData("_ZN2mm5Buddy1vEv", "mm::Buddy::v()")]
    [InlineData("_ZN2mm5Buddy4freeEPvm", "mm::Buddy::free(void*, unsigned long)")]
    [InlineData("_ZN2mm5Buddy5countE", "mm::Buddy::count")]
    [InlineData("_ZN2mm5BuddyC1Ev", "mm::Buddy::Buddy()")]
    [InlineData("_ZN2mm5BuddyC2Ev", "mm::Buddy::Buddy()")]
    [InlineData("_ZN2mm5BuddyD1Ev", "mm::Buddy::~Buddy()")]
    [InlineData("_ZN2mm5BuddyD2Ev", "mm::Buddy::~Buddy()")]
    [InlineData("_ZN2mm5BuddyaSERKS0_", "mm::Buddy::operator=(mm::Buddy const&)")]
    [InlineData("_ZN2mm5Outer5Inner1fEPS1_PS0_", "mm::Outer::Inner::f(mm::Outer::Inner*, mm::Outer*)")]
    [InlineData("_ZN2mm6rehashEm.isra.0", "mm::rehash(unsigned long) [clone .isra.0]")]
    [InlineData("_ZN2mm7counterEv", "mm::counter()")]
    [InlineData("_ZN2mm7take_fnEPFviERA3_iPKPKcPVt", "mm::take_fn(void (*)(int), int (&) [3], char const* const*, unsigned short volatile*)")]
    [InlineData("_ZN2mm8call_lamEv", "mm::call_lam()")]
    [InlineData("_ZN2mm8take_vecERSt6vectorIiSaIiEERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEPSt3mapIiS9_St4lessIiESaISt4pairIKiS9_EEE", "mm::take_vec(std::vector<int, std::allocator<int> >&, std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&, std::map<int, std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >, std::less<int>, std::allocator<std::pair<int const, std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > > > >*)")]
    [InlineData("_ZN2mm8variadicEiz", "mm::variadic(int, ...)")]
    [InlineData("_ZN2mm9take_rrefEOSt10unique_ptrINS_5BuddyESt14default_deleteIS1_EE", "mm::take_rref(std::unique_ptr<mm::Buddy, std::default_delete<mm::Buddy> >&&)")]
    [InlineData("_ZN6__pstl9execution2v1L3parE", "__pstl::execution::v1::par")]
    [InlineData("_ZN6__pstl9execution2v1L3seqE", "__pstl::execution::v1::seq")]
    [InlineData("_ZN6__pstl9execution2v1L5unseqE", "__pstl::execution::v1::unseq")]
    [InlineData("_ZN6__pstl9execution2v1L9par_unseqE", "__pstl::execution::v1::par_unseq")]
    [InlineData("_ZN9__gnu_cxxL21__default_lock_policyE", "__gnu_cxx::__default_lock_policy")]
    [InlineData("_ZNK2mm3lamMUliE_clEi", "mm::lam::{lambda(int)#1}::operator()(int) const")]
    [InlineData("_ZNK2mm5Buddy5allocEmi", "mm::Buddy::alloc(unsigned long, int) const")]
    [InlineData("_ZNK2mm5BuddycvbEv", "mm::Buddy::operator bool() const")]
    [InlineData("_ZNK2mm5BuddyeqERKS0_", "mm::Buddy::operator==(mm::Buddy const&) const")]
    [InlineData("_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector<int, std::allocator<int> >::push_back(int const&)")]
    [InlineData("_ZTIN2mm5BuddyE", "typeinfo for mm::Buddy")]
    [InlineData("_ZTSN2mm5BuddyE", "typeinfo name for mm::Buddy")]
    [InlineData("_ZTVN10__cxxabiv117__class_type_infoE", "vtable for __cxxabiv1::__class_type_info")]
    [InlineData("_ZTVN2mm5BuddyE", "vtable for mm::Buddy")]
    [InlineData("_ZThn8_N2mm5Buddy1vEv", "non-virtual thunk to mm::Buddy::v()")]
    [InlineData("_ZZ4mainE5count", "main::count")]
    [InlineData("_ZZN2mm7counterEvE1c", "mm::counter()::c")]
    public void Demangle_GccSymbol_AsCxxFiltPrintsIt(string mangled, string expected)
    {
        Assert.Equal(expected, CxxDemangler.Demangle(mangled));
    }

    [Theory]
    [InlineData("main")]
    [InlineData("_Z")]
    [InlineData("_ZN2mm")]
    [InlineData("_Z1fIXadL_Z1gvEEEvv")]
    [InlineData("_Z1fv.")]
    [InlineData("_ZN2mm5Buddy4freeEPvm trailing")]
    [InlineData("_Z1fS0_")]
    [InlineData("_Z1fT_")]
    [InlineData("_Z999999999999x")]
    public void Demangle_NotAMangledNameItReads_Null(string symbol)
    {
        Assert.Null(CxxDemangler.Demangle(symbol));
    }
}
