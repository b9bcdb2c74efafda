// General matrix multiply for the CPU, BLIS-style: packed panels, MC/KC/NC cache blocking and
// register-blocked micro-kernels chosen at run time from the CPU's features (isa.h).
#pragma once

#include <cstdint>

namespace tg::cpu {

// C = alpha * A·B + beta * C with A m×k, B k×n, C m×n. Every operand is addressed by a row stride
// and a column stride in elements, so transposed and sliced operands need no copy (backward uses
// A^T·G and G·B^T directly). beta == 0 means C is write-only: whatever it held (NaN included) is
// ignored. Any of m, n, k may be zero. Threads (OpenMP) are used above a work threshold.
template <typename T>
void gemm(int64_t m, int64_t n, int64_t k, T alpha,
          const T* a, int64_t a_row_stride, int64_t a_col_stride,
          const T* b, int64_t b_row_stride, int64_t b_col_stride,
          T beta, T* c, int64_t c_row_stride, int64_t c_col_stride);

// B for gemm_packing_b: instead of a matrix in memory, an object that writes any block of it
// straight into the GEMM's panel format. The convolution packs its column matrix from the image
// this way (implicit GEMM) rather than writing the whole matrix out and having it packed again.
template <typename T>
class BPacker {
 public:
  // panel[p * width + r] = B(depth_begin + p, column_begin + r) for p < depth and r < columns, and
  // zero for columns <= r < width. Called from several threads at once.
  virtual void pack(int64_t depth_begin, int64_t depth, int64_t column_begin, int64_t columns, int width,
                    T* panel) const = 0;

 protected:
  ~BPacker() = default;
};

// gemm with B (k×n) supplied by a packer.
template <typename T>
void gemm_packing_b(int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t a_row_stride, int64_t a_col_stride,
                    const BPacker<T>& b, T beta, T* c, int64_t c_row_stride, int64_t c_col_stride);

// Below this many multiply-adds per thread, a thread team costs more than it saves (the GEMM's
// threshold, which batched products share). Measured on a 2-core Xeon, threads each computing a
// block of C alone: 64^3 (262k) ran no faster on two threads than on one, 96^3 (885k) took 30%
// less time, 128^3 35% less.
inline constexpr int64_t kMinWorkPerThread = int64_t{1} << 19;

}  // namespace tg::cpu
