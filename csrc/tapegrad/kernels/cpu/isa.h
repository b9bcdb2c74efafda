// The instruction-set level every CPU kernel with vector variants runs (the GEMM micro-kernels,
// the elementwise and reduction vector kernels). The best one the CPU supports is chosen on first
// use; the environment variable TAPEGRAD_CPU=generic|avx2|avx512 or set_isa() can force a lower
// one (asking for one the CPU lacks, or an unknown name, is a ValueError).
#pragma once

namespace tg::cpu {

enum class Isa { Generic, Avx2, Avx512 };
Isa detected_isa();   // what the CPU supports
Isa active_isa();     // what the kernels use now
void set_isa(Isa isa);
const char* isa_name(Isa isa);

}  // namespace tg::cpu
