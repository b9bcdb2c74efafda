// The GEMM driver: the portable micro-kernel, packing, and the BLIS-style loop nest that feeds the
// register-blocked micro-kernels of gemm_avx2.cpp / gemm_avx512.cpp (the instruction set, isa.h).
//
// Loop nest (Goto/BLIS), outermost first:
//   jc over n by NC   pack a KC×NC block of B into NR-column panels      (lives in L3)
//   pc over k by KC
//   ic over m by MC   pack an MC×KC block of A into MR-row panels        (lives in L2)
//   tiles jr × ir     one micro-kernel call per MR×NR tile               (B micro-panel in L1/L2)
// Packing reads through both strides, so transposed or sliced operands need no copy of their own,
// and zero-pads a short last panel so the kernels never read past it. A is packed only when its
// rows are not contiguous and the product is deep; otherwise the kernels read it in place, and
// they never read past the row count they are given. Tiles cut short by m are handled by the
// kernels (they take a row count); tiles cut short by n, and any C whose columns are not
// contiguous, go through a small temporary tile. Threads each take a block of C's columns (or of
// its rows, when the columns are too few) and run the whole nest on it alone (split_c).
//
// This file is compiled for baseline x86-64: no intrinsics above SSE2 may appear here.
#include "tapegrad/kernels/cpu/gemm.h"

#include <emmintrin.h>  // SSE2 only: this file is built for baseline x86-64
#include <omp.h>
#include <xmmintrin.h>

#include <algorithm>
#include <new>
#include <utility>

#include "tapegrad/core/threads.h"
#include "tapegrad/kernels/cpu/gemm_kernels.h"
#include "tapegrad/kernels/cpu/gemm_row_kernel.h"
#include "tapegrad/kernels/cpu/isa.h"
#include "tapegrad/kernels/cpu/loops.h"

namespace tg::cpu {
namespace detail {
namespace {

// Portable micro-kernel: plain loops over a fixed-size accumulator that the compiler keeps in
// registers and vectorises along the columns with whatever the baseline offers (SSE2: 4×8 float
// is 8 xmm accumulators, leaving room for B and the broadcast in 16 registers). All MR rows are
// computed, rows past `rows` from zeros (A is not read there: in place it may end sooner).
template <typename T, int MR, int NR>
void generic_micro_kernel(int64_t k, int rows, const T* __restrict a, int64_t a_row_stride,
                          int64_t a_depth_stride, const T* __restrict b_panel, int64_t b_row_stride,
                          T* __restrict c, int64_t c_row_stride, T alpha, T beta) {
  T acc[MR][NR] = {};
  for (int64_t p = 0; p < k; ++p) {
    for (int i = 0; i < MR; ++i) {
      const T a_value = i < rows ? a[i * a_row_stride] : T(0);
      for (int j = 0; j < NR; ++j) acc[i][j] += a_value * b_panel[j];
    }
    a += a_depth_stride;
    b_panel += b_row_stride;
  }
  for (int i = 0; i < rows; ++i) {
    T* row = c + i * c_row_stride;
    if (beta == T(0)) {
      for (int j = 0; j < NR; ++j) row[j] = alpha * acc[i][j];
    } else {
      for (int j = 0; j < NR; ++j) row[j] = alpha * acc[i][j] + beta * row[j];
    }
  }
}

// The transposing pack (see TransposeIntoPanel) in kBlock×kBlock blocks, each handed to
// `transpose_block(source_block, panel_block)`; the edges element by element.
template <int kBlock, typename T, typename TransposeBlock>
void transpose_in_blocks(const T* source, int64_t source_stride, int64_t rows, int64_t depth, int width,
                         T* __restrict panel, TransposeBlock transpose_block) {
  const int64_t full_rows = rows / kBlock * kBlock;
  const int64_t full_depth = depth / kBlock * kBlock;
  for (int64_t r = 0; r < full_rows; r += kBlock) {
    for (int64_t p = 0; p < full_depth; p += kBlock)
      transpose_block(source + r * source_stride + p, panel + p * width + r);
    for (int64_t p = full_depth; p < depth; ++p)
      for (int64_t i = r; i < r + kBlock; ++i) panel[p * width + i] = source[i * source_stride + p];
  }
  for (int64_t r = full_rows; r < rows; ++r)
    for (int64_t p = 0; p < depth; ++p) panel[p * width + r] = source[r * source_stride + p];
}

}  // namespace

// Done element by element, the transposing pack has one strided store per element, which for the
// 128×784 operands of an MLP layer took as long as half the multiply. So 4×4 (float) or 2×2
// (double) blocks go through SSE2 registers, the baseline every x86-64 has.
void transpose_into_panel_baseline(const float* source, int64_t source_stride, int64_t rows,
                                   int64_t depth, int width, float* __restrict panel) {
  transpose_in_blocks<4>(source, source_stride, rows, depth, width, panel, [=](const float* block, float* out) {
    __m128 row0 = _mm_loadu_ps(block);
    __m128 row1 = _mm_loadu_ps(block + source_stride);
    __m128 row2 = _mm_loadu_ps(block + 2 * source_stride);
    __m128 row3 = _mm_loadu_ps(block + 3 * source_stride);
    _MM_TRANSPOSE4_PS(row0, row1, row2, row3);
    _mm_storeu_ps(out, row0);
    _mm_storeu_ps(out + width, row1);
    _mm_storeu_ps(out + 2 * width, row2);
    _mm_storeu_ps(out + 3 * width, row3);
  });
}

void transpose_into_panel_baseline(const double* source, int64_t source_stride, int64_t rows,
                                   int64_t depth, int width, double* __restrict panel) {
  transpose_in_blocks<2>(source, source_stride, rows, depth, width, panel, [=](const double* block, double* out) {
    const __m128d row0 = _mm_loadu_pd(block);
    const __m128d row1 = _mm_loadu_pd(block + source_stride);
    _mm_storeu_pd(out, _mm_unpacklo_pd(row0, row1));
    _mm_storeu_pd(out + width, _mm_unpackhi_pd(row0, row1));
  });
}

const KernelConfig<float> kGenericFloat{&generic_micro_kernel<float, 4, 8>, &row_times_matrix<float>,
                                        &outer_product<float>, &transpose_into_panel_baseline, 4, 8, 128, 256, 4096};
const KernelConfig<double> kGenericDouble{&generic_micro_kernel<double, 4, 4>, &row_times_matrix<double>,
                                          &outer_product<double>, &transpose_into_panel_baseline, 4, 4, 64, 256,
                                          4096};

}  // namespace detail

namespace {

using detail::KernelConfig;

template <typename T>
const KernelConfig<T>& kernel_config(Isa isa);

template <>
const KernelConfig<float>& kernel_config<float>(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return detail::kAvx512Float;
    case Isa::Avx2: return detail::kAvx2Float;
    case Isa::Generic: break;
  }
  return detail::kGenericFloat;
}

template <>
const KernelConfig<double>& kernel_config<double>(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return detail::kAvx512Double;
    case Isa::Avx2: return detail::kAvx2Double;
    case Isa::Generic: break;
  }
  return detail::kGenericDouble;
}

// ---- Workspace --------------------------------------------------------------------------------

constexpr std::size_t kPanelAlignment = 64;  // one cache line, so no vector load splits two

// Packing buffers reused across calls by the calling thread, so small GEMMs (the common case in
// training loops) pay no allocation. OpenMP keeps its worker threads, and with them their own.
class Workspace {
 public:
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace() { ::operator delete(data_, std::align_val_t{kPanelAlignment}); }

  void* reserve(std::size_t bytes) {
    if (bytes > capacity_) {
      ::operator delete(data_, std::align_val_t{kPanelAlignment});
      data_ = nullptr;
      capacity_ = 0;
      data_ = ::operator new(bytes, std::align_val_t{kPanelAlignment});
      capacity_ = bytes;
    }
    return data_;
  }

 private:
  void* data_ = nullptr;
  std::size_t capacity_ = 0;
};

constexpr int64_t round_up(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

// ---- Packing ----------------------------------------------------------------------------------

// Copies a rows×depth block, element (r, p) at source[r * row_stride + p * depth_stride], into a
// k-major panel of the given width (panel[p * width + r]), zero-filling rows rows..width-1. This
// is both packings: A's MR-row panels (r = row of A) and B's NR-column panels (r = column of B).
template <typename T>
void pack_panel(const KernelConfig<T>& config, const T* source, int64_t row_stride, int64_t depth_stride,
                int64_t rows, int64_t depth, int width, T* __restrict panel) {
  if (rows < width) std::fill(panel, panel + depth * width, T(0));
  if (row_stride == 1) {
    // The panel's own layout: each k step is one contiguous copy.
    for (int64_t p = 0; p < depth; ++p)
      std::copy(source + p * depth_stride, source + p * depth_stride + rows, panel + p * width);
  } else if (depth_stride == 1) {
    config.transpose_into_panel(source, row_stride, rows, depth, width, panel);
  } else {
    for (int64_t p = 0; p < depth; ++p)
      for (int64_t r = 0; r < rows; ++r)
        panel[p * width + r] = source[r * row_stride + p * depth_stride];
  }
}

// ---- The blocked driver -----------------------------------------------------------------------

// Depth up to which a product is bound by writing C rather than by its multiply-adds.
constexpr int64_t kShallowDepth = 16;

template <typename T>
struct Problem {
  int64_t m, n, k;
  T alpha;
  const T* a;
  int64_t a_row_stride, a_col_stride;
  const T* b;
  int64_t b_row_stride, b_col_stride;
  T beta;
  T* c;
  int64_t c_row_stride, c_col_stride;
  // When set, B comes from the packer (b is unused) and this block's column j is B's column
  // b_column_offset + j.
  const BPacker<T>* b_packer = nullptr;
  int64_t b_column_offset = 0;
};

// C = tile + beta * C for the valid rows × cols corner of a temporary MR×NR tile (alpha is
// already applied): a partial column panel, or any C whose columns are not contiguous.
template <typename T>
void merge_tile(const T* tile, int nr, int64_t rows, int64_t cols, T beta, T* c,
                int64_t c_row_stride, int64_t c_col_stride) {
  for (int64_t i = 0; i < rows; ++i) {
    T* row = c + i * c_row_stride;
    const T* source = tile + i * nr;
    if (beta == T(0)) {
      for (int64_t j = 0; j < cols; ++j) row[j * c_col_stride] = source[j];
    } else {
      for (int64_t j = 0; j < cols; ++j)
        row[j * c_col_stride] = source[j] + beta * row[j * c_col_stride];
    }
  }
}

// A is read in place when its rows are contiguous: the kernel's broadcasts walk MR rows side by
// side, which the hardware prefetchers follow as MR streams, so the transposing pack only added
// work (28% of X·W1^T, 128×784 by 784×128, on one thread). A shallow product reads A in place
// whatever its layout: each element is used only n / NR times, too few to pay for any packing
// (packing the 128×10 A of G2·W2 took a tenth of the product), and it sits in L1.
template <typename T>
bool reads_a_in_place(const Problem<T>& problem) {
  return problem.k <= kShallowDepth || problem.a_col_stride == 1;
}

// Runs the whole loop nest on one thread. Threads split C before it is called (see split_c), so
// nothing here is shared and nothing waits.
template <typename T>
void run_blocked(const Problem<T>& problem, const KernelConfig<T>& config, T* a_buffer,
                 T* b_buffer) {
  const int mr = config.mr;
  const int nr = config.nr;
  const bool c_columns_contiguous = problem.c_col_stride == 1;
  // Packing B pays for itself by being reused from cache by every MR-row panel of A. With a
  // single panel (m <= MR, e.g. G2^T·h with 10 classes) there is no reuse, and copying B cost a
  // third of the time; with a tiny k (G2·W2, k = 10) the unpacked rows stay in L1 anyway. Then
  // full column panels of a B with contiguous rows are read in place.
  const bool b_in_place = problem.b_packer == nullptr && (problem.m <= mr || problem.k <= 32) &&
                          problem.b_col_stride == 1;
  const bool a_in_place = reads_a_in_place(problem);

  for (int64_t jc = 0; jc < problem.n; jc += config.nc) {
    const int64_t nc = std::min<int64_t>(config.nc, problem.n - jc);
    const int64_t n_panels = (nc + nr - 1) / nr;

    for (int64_t pc = 0; pc < problem.k; pc += config.kc) {
      const int64_t kc = std::min<int64_t>(config.kc, problem.k - pc);
      // Only the first slice of k sees the caller's beta; later slices accumulate onto it.
      const T beta = pc == 0 ? problem.beta : T(1);

      for (int64_t panel = 0; panel < n_panels; ++panel) {
        const int64_t j0 = panel * nr;
        if (b_in_place && j0 + nr <= nc) continue;
        // A panel of B holds NR of its columns: the panel's "rows" are B's columns.
        const int64_t columns = std::min<int64_t>(nr, nc - j0);
        if (problem.b_packer != nullptr) {
          problem.b_packer->pack(pc, kc, problem.b_column_offset + jc + j0, columns, nr, b_buffer + panel * nr * kc);
        } else {
          pack_panel(config, problem.b + pc * problem.b_row_stride + (jc + j0) * problem.b_col_stride,
                     problem.b_col_stride, problem.b_row_stride, columns, kc, nr, b_buffer + panel * nr * kc);
        }
      }

      for (int64_t ic = 0; ic < problem.m; ic += config.mc) {
        const int64_t mc = std::min<int64_t>(config.mc, problem.m - ic);
        const int64_t m_panels = (mc + mr - 1) / mr;

        for (int64_t panel = 0; !a_in_place && panel < m_panels; ++panel) {
          const int64_t i0 = panel * mr;
          pack_panel(config, problem.a + (ic + i0) * problem.a_row_stride + pc * problem.a_col_stride,
                     problem.a_row_stride, problem.a_col_stride, std::min<int64_t>(mr, mc - i0),
                     kc, mr, a_buffer + panel * mr * kc);
        }

        // Column panel outermost, so each B micro-panel is reused across all A panels while it
        // is hot in cache.
        for (int64_t b_panel = 0; b_panel < n_panels; ++b_panel) {
          const int64_t j0 = b_panel * nr;
          const int64_t cols = std::min<int64_t>(nr, nc - j0);
          const T* b_source = b_buffer + b_panel * nr * kc;
          int64_t b_row_stride = nr;
          if (b_in_place && cols == nr) {
            b_source = problem.b + pc * problem.b_row_stride + (jc + j0);
            b_row_stride = problem.b_row_stride;
          }
          for (int64_t a_panel = 0; a_panel < m_panels; ++a_panel) {
            const int64_t i0 = a_panel * mr;
            const int64_t rows = std::min<int64_t>(mr, mc - i0);
            const T* a_source = a_buffer + a_panel * mr * kc;
            int64_t a_row_stride = 1, a_depth_stride = mr;
            if (a_in_place) {
              a_source = problem.a + (ic + i0) * problem.a_row_stride + pc * problem.a_col_stride;
              a_row_stride = problem.a_row_stride;
              a_depth_stride = problem.a_col_stride;
            }
            T* c = problem.c + (ic + i0) * problem.c_row_stride + (jc + j0) * problem.c_col_stride;
            if (cols == nr && c_columns_contiguous) {
              // The kernel itself has no registers to spare for this. A shallow tile is over
              // before a prefetch could land, so there it would only take issue slots from the
              // stores.
              for (int i = 0; kc > kShallowDepth && i < rows; ++i) {
                const char* row = reinterpret_cast<const char*>(c + i * problem.c_row_stride);
                _mm_prefetch(row, _MM_HINT_T0);
                _mm_prefetch(row + (nr * sizeof(T) - 1), _MM_HINT_T0);
              }
              config.kernel(kc, static_cast<int>(rows), a_source, a_row_stride, a_depth_stride,
                            b_source, b_row_stride, c, problem.c_row_stride, problem.alpha, beta);
            } else {
              alignas(kPanelAlignment) T tile_buffer[detail::kMaxMr * detail::kMaxNr];
              config.kernel(kc, static_cast<int>(rows), a_source, a_row_stride, a_depth_stride,
                            b_source, b_row_stride, tile_buffer, nr, problem.alpha, T(0));
              merge_tile(tile_buffer, nr, rows, cols, beta, c, problem.c_row_stride,
                         problem.c_col_stride);
            }
          }
        }
      }
    }
  }
}

// C = beta * C, for the cases with no product to add (k == 0 or alpha == 0). beta == 0 writes
// zeros without reading C, so NaN in C does not survive.
template <typename T>
void scale_c(const Problem<T>& problem) {
  for (int64_t i = 0; i < problem.m; ++i) {
    T* row = problem.c + i * problem.c_row_stride;
    for (int64_t j = 0; j < problem.n; ++j) {
      T& value = row[j * problem.c_col_stride];
      value = problem.beta == T(0) ? T(0) : problem.beta * value;
    }
  }
}

// Computing C^T = B^T·A^T instead is the same GEMM with m/n, A/B and the strides swapped. It pays
// off when C is column-major (then the transposed C has contiguous rows for the kernel's vector
// stores) or when n is so small against NR that most of each tile would be padding (an m×10 C
// with NR = 32). The cost counts the elements of C computed: columns are padded to NR, rows are
// not (the kernels take a row count). Going through the temporary tile costs roughly a quarter of
// a full tile.
template <typename T>
bool compute_transposed(const Problem<T>& problem, const KernelConfig<T>& config) {
  const auto cost = [&](int64_t m, int64_t n, bool contiguous) {
    const double area = static_cast<double>(m) * static_cast<double>(round_up(n, config.nr));
    return contiguous ? area : 1.25 * area;
  };
  const double direct = cost(problem.m, problem.n, problem.c_col_stride == 1);
  const double transposed = cost(problem.n, problem.m, problem.c_row_stride == 1);
  return transposed < direct;
}

template <typename T>
void gemm_impl(Problem<T> problem);

// Runs `run` on each of the team's blocks of C: contiguous ranges of its rows or of its columns,
// each a whole number of `unit` rows or columns except for the last, which ends where C does.
template <typename T, typename Run>
void run_in_blocks(const Problem<T>& problem, bool by_columns, int64_t unit, int threads, Run run) {
  const int64_t extent = by_columns ? problem.n : problem.m;
  const int64_t units = (extent + unit - 1) / unit;
#pragma omp parallel num_threads(threads)
  {
    const int64_t team = omp_get_num_threads(), member = omp_get_thread_num();
    const int64_t begin = units * member / team * unit;
    const int64_t end = std::min(extent, units * (member + 1) / team * unit);
    Problem<T> block = problem;
    if (by_columns) {
      block.n = end - begin;
      block.b += begin * problem.b_col_stride;
      block.b_column_offset += begin;
      block.c += begin * problem.c_col_stride;
    } else {
      block.m = end - begin;
      block.a += begin * problem.a_row_stride;
      block.c += begin * problem.c_row_stride;
    }
    run(block);
  }
}

// A shallow product with a large row-major C (the outer product x^T·g that gives a weight's
// gradient at batch 1) is too little arithmetic for a team by kMinWorkPerThread, but writing C is
// worth splitting like any elementwise op. It is split the way the elementwise kernels split a
// tensor, one contiguous range of rows per thread, so that the op consuming C next (adding it
// into .grad) finds each part in the cache of the core that wrote it: with any other split, every
// cache line crossed between cores and the pair took 4x as long on two cores as on one.
template <typename T>
bool split_shallow_rows(const Problem<T>& problem) {
  if (problem.k > kShallowDepth || problem.c_col_stride != 1 || omp_in_parallel()) return false;
  const int threads = threads_for(problem.m * problem.n);
  if (threads <= 1 || problem.m < threads) return false;
  run_in_blocks(problem, /*by_columns=*/false, 1, threads, [](const Problem<T>& rows) { gemm_impl(rows); });
  return true;
}

// A vector-matrix product (m == 1) reads each element of B once and is bound by that, like an
// elementwise op, so it takes threads as one would for B's size: each a contiguous range of C's
// columns, in whole passes of the streaming loop. Every column is summed in the same order however
// the columns are split, so the result does not depend on the thread count.
template <typename T>
void row_times_matrix_in_threads(const Problem<T>& problem, const KernelConfig<T>& config) {
  constexpr int64_t kPass = detail::kRowPassColumns;
  parallel_ranges((problem.n + kPass - 1) / kPass, problem.k * problem.n, [&](int64_t first, int64_t last) {
    const int64_t begin = first * kPass, end = std::min(problem.n, last * kPass);
    config.row_times_matrix(problem.k, end - begin, problem.alpha, problem.a, problem.a_col_stride,
                            problem.b + begin * problem.b_col_stride, problem.b_row_stride, problem.b_col_stride,
                            problem.beta, problem.c + begin * problem.c_col_stride, problem.c_col_stride);
  });
}

// Runs the loop nest on the calling thread, with packing buffers from its own workspace.
template <typename T>
void run_alone(const Problem<T>& problem, const KernelConfig<T>& config) {
  const int64_t kc = std::min<int64_t>(config.kc, problem.k);
  const int64_t a_elements =
      reads_a_in_place(problem) ? 0 : round_up(std::min<int64_t>(config.mc, problem.m), config.mr) * kc;
  const int64_t b_elements = round_up(std::min<int64_t>(config.nc, problem.n), config.nr) * kc;
  // Both buffers share one allocation; A's part is rounded up to whole cache lines so that B's
  // panels start on one. Every thread that runs the nest keeps its own.
  const int64_t a_span = round_up(a_elements, kPanelAlignment / sizeof(T));
  thread_local Workspace workspace;
  T* a_buffer = static_cast<T*>(workspace.reserve((a_span + b_elements) * sizeof(T)));
  run_blocked(problem, config, a_buffer, a_buffer + a_span);
}

// Splits C between threads into contiguous blocks of whole column panels (or, when there are too
// few of those to go round, whole row panels), and each thread runs the loop nest alone on its
// block with its own packing. BLIS instead has a team share each packed block of B and meet at a
// barrier around it; measured here, that lost to the split: the shared panels crossed between the
// cores' caches, and a barrier stalls the team whenever the other core is busy with another job.
// X·W1^T of an MLP layer (128×784 by 784×128) took 132 µs on two threads that way, 78 µs split
// (one thread: 143 µs). Each thread packs A again for its columns, which costs far less.
template <typename T>
void split_c(const Problem<T>& problem, const KernelConfig<T>& config, int threads) {
  const int64_t column_panels = (problem.n + config.nr - 1) / config.nr;
  const int64_t row_panels = (problem.m + config.mr - 1) / config.mr;
  const bool by_columns = column_panels >= 2 * threads || column_panels >= row_panels;
  const int64_t panels = by_columns ? column_panels : row_panels;
  threads = static_cast<int>(std::min<int64_t>(threads, panels));
  if (threads <= 1) {
    run_alone(problem, config);
    return;
  }
  run_in_blocks(problem, by_columns, by_columns ? config.nr : config.mr, threads,
                [&config](const Problem<T>& block) { run_alone(block, config); });
}

// Computing C^T = B^T·A^T: the same GEMM with m/n, A/B and the strides swapped.
template <typename T>
void transpose_problem(Problem<T>& problem) {
  std::swap(problem.m, problem.n);
  std::swap(problem.a, problem.b);
  std::swap(problem.a_row_stride, problem.b_col_stride);
  std::swap(problem.a_col_stride, problem.b_row_stride);
  std::swap(problem.c_row_stride, problem.c_col_stride);
}

// The shapes that neither pack nor tile (a single row or column of C, depth one) get their own
// kernels and return true; otherwise the problem may be turned into its transpose (see
// compute_transposed) for the blocked driver, and false is returned. Both read B from memory.
template <typename T>
bool special_shape(Problem<T>& problem, const KernelConfig<T>& config) {
  if (problem.m == 1 || problem.n == 1) {
    if (problem.m != 1) transpose_problem(problem);
    row_times_matrix_in_threads(problem, config);
    return true;
  }
  if (problem.k == 1) {
    if (problem.c_col_stride != 1 && problem.c_row_stride == 1) transpose_problem(problem);  // rows of C contiguous
    config.outer_product(problem.m, problem.n, problem.alpha, problem.a, problem.a_row_stride, problem.b,
                         problem.b_col_stride, problem.beta, problem.c, problem.c_row_stride, problem.c_col_stride);
    return true;
  }
  if (compute_transposed(problem, config)) transpose_problem(problem);
  return false;
}

template <typename T>
void gemm_impl(Problem<T> problem) {
  if (problem.m <= 0 || problem.n <= 0) return;
  if (problem.k <= 0 || problem.alpha == T(0)) {
    scale_c(problem);
    return;
  }
  if (split_shallow_rows(problem)) return;
  const KernelConfig<T>& config = kernel_config<T>(active_isa());
  if (problem.b_packer == nullptr && special_shape(problem, config)) return;


  // In double: m·n·k can overflow int64 for shapes whose operands still fit in memory.
  const double work = static_cast<double>(problem.m) * static_cast<double>(problem.n) *
                      static_cast<double>(problem.k);
  // Inside a parallel region (the caller's own, or one of ours splitting a batch) this thread is
  // the whole of its share.
  int threads = omp_in_parallel() ? 1 : get_num_threads();
  threads = static_cast<int>(std::max(1.0, std::min<double>(threads, work / kMinWorkPerThread)));
  split_c(problem, config, threads);
}

}  // namespace

// ---- Public interface -------------------------------------------------------------------------

template <typename T>
void gemm(int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t a_row_stride,
          int64_t a_col_stride, const T* b, int64_t b_row_stride, int64_t b_col_stride, T beta,
          T* c, int64_t c_row_stride, int64_t c_col_stride) {
  gemm_impl(Problem<T>{m, n, k, alpha, a, a_row_stride, a_col_stride, b, b_row_stride,
                       b_col_stride, beta, c, c_row_stride, c_col_stride});
}

template <typename T>
void gemm_packing_b(int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t a_row_stride, int64_t a_col_stride,
                    const BPacker<T>& b, T beta, T* c, int64_t c_row_stride, int64_t c_col_stride) {
  Problem<T> problem{m, n, k, alpha, a, a_row_stride, a_col_stride, nullptr, 0, 0, beta, c, c_row_stride,
                     c_col_stride};
  problem.b_packer = &b;
  gemm_impl(problem);
}

template void gemm<float>(int64_t, int64_t, int64_t, float, const float*, int64_t, int64_t,
                          const float*, int64_t, int64_t, float, float*, int64_t, int64_t);
template void gemm<double>(int64_t, int64_t, int64_t, double, const double*, int64_t, int64_t,
                           const double*, int64_t, int64_t, double, double*, int64_t, int64_t);
template void gemm_packing_b<float>(int64_t, int64_t, int64_t, float, const float*, int64_t, int64_t,
                                    const BPacker<float>&, float, float*, int64_t, int64_t);
template void gemm_packing_b<double>(int64_t, int64_t, int64_t, double, const double*, int64_t, int64_t,
                                     const BPacker<double>&, double, double*, int64_t, int64_t);

}  // namespace tg::cpu
