// vector_kernels.h compiled for AVX2 + FMA (this file's build flags); called only after a CPUID check.
#include "tapegrad/kernels/cpu/vector_kernels.h"

TG_DEFINE_VECTOR_KERNELS(avx2)
