// Reductions and the softmax family on the CPU.
//
// A reduction sees the input as kept dims (one output element per index) times reduced dims, and
// takes one of three paths:
//   inner:   the reduced dims form one contiguous run -> each output reduces a run with several
//            accumulators (float sums cascade into double, so 16M floats stay accurate);
//   outer:   a kept dim is contiguous in input and output -> whole rows are accumulated into the
//            output vector, vectorised over that dim (blocks of rows, so float sums stay accurate);
//   strided: anything else, one output at a time with a double/int64 accumulator.
// Threads only above kGrainSize input elements.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <type_traits>
#include <vector>

#include "tapegrad/kernels/cpu/backend.h"
#include "tapegrad/kernels/cpu/isa.h"
#include "tapegrad/kernels/cpu/loops.h"
#include "tapegrad/kernels/cpu/reduce_kernels.h"

namespace tg::cpu {

FloatReduceKernels float_reduce_kernels_baseline() { return make_float_reduce_kernels(); }

namespace {

// The float32 loops for the widest instruction set this CPU runs (the same choice as GEMM's,
// so TAPEGRAD_CPU=generic forces the baseline here too).
FloatReduceKernels float_kernels() {
  return active_isa() == Isa::Avx512 ? float_reduce_kernels_avx512()
         : active_isa() == Isa::Avx2 ? float_reduce_kernels_avx2()
                                     : float_reduce_kernels_baseline();
}

// reduce_run, through the vectorised float32 sum where there is one.
template <ReduceOp Op, typename T>
T run(const T* data, int64_t n, T identity, const FloatReduceKernels& fast) {
  if constexpr (Op == ReduceOp::Sum && std::is_same_v<T, float>) return fast.sum(data, n);
  else return reduce_run<Op>(data, n, identity);
}

// What an empty reduction gives: the value that leaves any other unchanged.
template <ReduceOp Op, typename T>
constexpr T identity_of() {
  using Limits = std::numeric_limits<T>;
  if constexpr (Op == ReduceOp::Sum) return T(0);
  else if constexpr (Op == ReduceOp::Prod) return T(1);
  else if constexpr (Op == ReduceOp::Max) return Limits::has_infinity ? -Limits::infinity() : Limits::lowest();
  else return Limits::has_infinity ? Limits::infinity() : Limits::max();
}

// ---- the geometry of a reduction --------------------------------------------------------------

struct Dims {
  DimVector sizes, strides, out_strides;
};

// Sorts dims by input stride (largest first) and merges neighbours that form one run in both the
// input and the output, so that most layouts end up with one dim per group.
Dims coalesce(Dims dims) {
  std::vector<size_t> order(dims.sizes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return dims.strides[a] > dims.strides[b]; });
  Dims merged;
  for (size_t index : order) {
    const int64_t size = dims.sizes[index], stride = dims.strides[index], out_stride = dims.out_strides[index];
    if (size == 1) continue;
    const size_t last = merged.sizes.size();
    if (last > 0 && merged.strides[last - 1] == stride * size && merged.out_strides[last - 1] == out_stride * size) {
      merged.sizes[last - 1] *= size;
      merged.strides[last - 1] = stride;
      merged.out_strides[last - 1] = out_stride;
    } else {
      merged.sizes.push_back(size);
      merged.strides.push_back(stride);
      merged.out_strides.push_back(out_stride);
    }
  }
  return merged;
}

// Offset (in elements) of the flat index `index` in row-major order over `sizes`.
inline int64_t offset_of(int64_t index, const DimVector& sizes, const DimVector& strides) {
  int64_t offset = 0;
  for (size_t d = sizes.size(); d-- > 0;) {
    offset += (index % sizes[d]) * strides[d];
    index /= sizes[d];
  }
  return offset;
}

inline int64_t product(const DimVector& sizes) {
  int64_t count = 1;
  for (int64_t size : sizes) count *= size;
  return count;
}

template <ReduceOp Op, typename T>
void reduce_typed(const Tensor& out, const Tensor& input, const std::vector<bool>& reduced) {
  const T identity = identity_of<Op, T>();
  const FloatReduceKernels fast = float_kernels();
  T* out_data = out.data_ptr<T>();
  const T* in_data = input.data_ptr<T>();
  // `out` has the shape with or without keepdim; either way its dims are the kept dims in order.
  const bool keepdim = out.dim() == input.dim();
  Dims kept_dims, reduced_dims;
  for (int64_t d = 0, out_dim = 0; d < input.dim(); ++d) {
    Dims& target = reduced[d] ? reduced_dims : kept_dims;
    target.sizes.push_back(input.sizes()[d]);
    target.strides.push_back(input.strides()[d]);
    target.out_strides.push_back(reduced[d] ? 0 : out.strides()[keepdim ? d : out_dim]);
    if (!reduced[d]) ++out_dim;
  }
  const Dims kept = coalesce(kept_dims);
  Dims red = coalesce(reduced_dims);
  if (red.sizes.empty()) {  // nothing (or only size-1 dims) reduced: one element per output
    red.sizes.push_back(1);
    red.strides.push_back(0);
    red.out_strides.push_back(0);
  }
  const int64_t outputs = product(kept.sizes), count = product(red.sizes);
  if (outputs == 0) return;
  if (count == 0) {
    for (int64_t o = 0; o < outputs; ++o) out_data[offset_of(o, kept.sizes, kept.out_strides)] = identity;
    return;
  }
  const int64_t threads = cpu::threads_for(outputs * count);
  const size_t kept_ndim = kept.sizes.size(), red_ndim = red.sizes.size();

  // inner: the reduced elements are one contiguous run per output.
  if (red_ndim == 1 && red.strides[0] == 1) {
    if (outputs == 1 && threads > 1) {
      // One long run: each thread reduces a slice, then the partial results are combined.
      std::vector<T> partial(threads, identity);
      const int64_t chunk = (count + threads - 1) / threads;
      parallel_ranges(threads, outputs * count, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
          const int64_t start = std::min(count, t * chunk);
          partial[t] = run<Op>(in_data + start, std::min(count, start + chunk) - start, identity, fast);
        }
      });
      T result = identity;
      for (T value : partial) result = combine<Op>(result, value);
      out_data[0] = result;
      return;
    }
    parallel_ranges(outputs, outputs * count, [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o)
        out_data[offset_of(o, kept.sizes, kept.out_strides)] =
            run<Op>(in_data + offset_of(o, kept.sizes, kept.strides), count, identity, fast);
    });
    return;
  }

  // outer: accumulate whole rows of the innermost kept dim into the output, vectorised over it.
  if (kept_ndim >= 1 && kept.strides[kept_ndim - 1] == 1 && kept.out_strides[kept_ndim - 1] == 1) {
    const int64_t width = kept.sizes[kept_ndim - 1], rows = outputs / width;
    DimVector row_sizes(kept.sizes.begin(), kept.sizes.end() - 1);
    DimVector row_strides(kept.strides.begin(), kept.strides.end() - 1);
    DimVector row_out_strides(kept.out_strides.begin(), kept.out_strides.end() - 1);
    // Tiles of (row, column block); a column block fits in L1 with its block accumulator.
    // Column blocks are as wide as possible (long sequential reads) while giving every thread work.
    constexpr int64_t kColumns = 4096, kBlockRows = 64;
    const int64_t per_thread = (width + threads - 1) / threads;
    const int64_t block_width = std::min(kColumns, rows >= threads ? width : (per_thread + 15) / 16 * 16);
    const int64_t column_blocks = (width + block_width - 1) / block_width;
    // Float sums add kBlockRows rows into a fresh block, then the block into a double total.
    using Total = std::conditional_t<std::is_same_v<T, float>, double, T>;
    parallel_ranges(rows * column_blocks, outputs * count, [&](int64_t begin, int64_t end) {
      Total total[kColumns];
      T block[kColumns];
      for (int64_t tile = begin; tile < end; ++tile) {
        const int64_t row = tile / column_blocks, column = (tile % column_blocks) * block_width;
        const int64_t columns = std::min(block_width, width - column);
        const T* base = in_data + offset_of(row, row_sizes, row_strides) + column;
        std::fill(total, total + columns, identity);
        for (int64_t r0 = 0; r0 < count; r0 += kBlockRows) {
          std::fill(block, block + columns, identity);
          const int64_t r1 = std::min(count, r0 + kBlockRows);
          if constexpr (Op == ReduceOp::Sum && std::is_same_v<T, float>) {
            if (red_ndim == 1) {
              fast.add_rows(block, base + r0 * red.strides[0], red.strides[0], r1 - r0, columns);
              for (int64_t j = 0; j < columns; ++j) total[j] += block[j];
              continue;
            }
          }
          for (int64_t r = r0; r < r1; ++r) {
            const T* __restrict source = base + offset_of(r, red.sizes, red.strides);
            for (int64_t j = 0; j < columns; ++j) block[j] = combine<Op>(block[j], source[j]);
          }
          for (int64_t j = 0; j < columns; ++j) total[j] = combine<Op, Total>(total[j], block[j]);
        }
        T* destination = out_data + offset_of(row, row_sizes, row_out_strides) + column;
        for (int64_t j = 0; j < columns; ++j) destination[j] = static_cast<T>(total[j]);
      }
    });
    return;
  }

  // strided: any layout; the wider accumulator keeps long float sums accurate.
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::conditional_t<std::is_same_v<T, bool>, bool, int64_t>>;
  const int64_t inner = red.sizes[red_ndim - 1], inner_stride = red.strides[red_ndim - 1];
  DimVector outer_sizes(red.sizes.begin(), red.sizes.end() - 1), outer_strides(red.strides.begin(), red.strides.end() - 1);
  parallel_ranges(outputs, outputs * count, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      const T* base = in_data + offset_of(o, kept.sizes, kept.strides);
      Acc acc = static_cast<Acc>(identity);
      for (int64_t r = 0; r < count / inner; ++r) {
        const T* source = base + offset_of(r, outer_sizes, outer_strides);
        for (int64_t i = 0; i < inner; ++i) acc = combine<Op, Acc>(acc, static_cast<Acc>(source[i * inner_stride]));
      }
      out_data[offset_of(o, kept.sizes, kept.out_strides)] = static_cast<T>(acc);
    }
  });
}

// ---- dim-wise kernels (arg_reduce, softmax) ---------------------------------------------------
// A tensor of any strides is seen around one dim as (outer, size, inner), where outer and inner
// stand for the dims before and after it. Outputs are contiguous in that order.

// Dims in order, size-1 dims dropped and neighbours that form one run merged.
void merge_runs(const DimVector& sizes, const DimVector& strides, int64_t begin, int64_t end, DimVector& merged_sizes,
                DimVector& merged_strides) {
  for (int64_t d = begin; d < end; ++d) {
    if (sizes[d] == 1) continue;
    const size_t last = merged_sizes.size();
    if (last > 0 && merged_strides[last - 1] == strides[d] * sizes[d]) {
      merged_sizes[last - 1] *= sizes[d];
      merged_strides[last - 1] = strides[d];
    } else {
      merged_sizes.push_back(sizes[d]);
      merged_strides.push_back(strides[d]);
    }
  }
}

struct DimLayout {
  int64_t outer = 1, size = 1, inner = 1;
  int64_t stride = 0;                    // of the dim itself
  DimVector outer_sizes, outer_strides;  // merged dims before it
  // Block o starts at o * block_stride when the dims before merge into one (always so for
  // contiguous input): no division per block then.
  bool evenly_spaced = true;
  int64_t block_stride = 0;
  // Offsets of the inner elements from a block's start: empty when they form one run of stride
  // inner_stride (always so when inner == 1).
  std::vector<int64_t> inner_offsets;
  int64_t inner_stride = 1;

  DimLayout(const Tensor& tensor, int64_t dim) {
    if (tensor.dim() == 0) return;
    const DimVector& sizes = tensor.sizes();
    size = sizes[dim];
    stride = tensor.strides()[dim];
    merge_runs(sizes, tensor.strides(), 0, dim, outer_sizes, outer_strides);
    for (int64_t size_before : outer_sizes) outer *= size_before;
    evenly_spaced = outer_sizes.size() <= 1;
    if (outer_sizes.size() == 1) block_stride = outer_strides[0];
    DimVector inner_sizes, inner_strides;
    merge_runs(sizes, tensor.strides(), dim + 1, tensor.dim(), inner_sizes, inner_strides);
    for (int64_t size_after : inner_sizes) inner *= size_after;
    if (inner_sizes.size() == 1) inner_stride = inner_strides[0];
    if (inner_sizes.size() > 1)
      for (int64_t j = 0; j < inner; ++j) inner_offsets.push_back(offset_of(j, inner_sizes, inner_strides));
  }
  int64_t block_offset(int64_t o) const {
    return evenly_spaced ? o * block_stride : offset_of(o, outer_sizes, outer_strides);
  }
  // Whether a block kernel can read a block in place: its rows (one per index of the dim) hold
  // their inner elements as one run, and, unless `any_row_stride`, a row of one element has
  // stride 1 (the kernels' inner == 1 paths read the dim as one run).
  bool readable_in_place(bool any_row_stride) const {
    if (!inner_offsets.empty()) return false;
    return inner == 1 ? any_row_stride || stride == 1 : inner_stride == 1;
  }
};

// Calls body(begin, end, scratch) on each thread's share [begin, end) of the `outer` blocks, in
// parallel when the `work` elements in all pay for threads; each thread has `scratch_count` T's of
// scratch.
template <typename T, typename Body>
void for_each_block_range(int64_t outer, int64_t work, int64_t scratch_count, Body&& body) {
  parallel_ranges(outer, work, [&](int64_t begin, int64_t end) {
    const std::unique_ptr<T[]> scratch(scratch_count > 0 ? new T[scratch_count] : nullptr);
    body(begin, end, scratch.get());
  });
}

// A block's elements copied into a contiguous (size, inner) array at `to`: the layout a block
// kernel reads, with row stride inner.
template <typename T>
void gather_block(T* __restrict to, const T* from, const DimLayout& layout) {
  for (int64_t d = 0; d < layout.size; ++d) {
    const T* row = from + d * layout.stride;
    T* out = to + d * layout.inner;
    if (layout.inner_offsets.empty())
      for (int64_t j = 0; j < layout.inner; ++j) out[j] = row[j * layout.inner_stride];
    else
      for (int64_t j = 0; j < layout.inner; ++j) out[j] = row[layout.inner_offsets[j]];
  }
}

// How the softmax kernels read one operand's blocks: in place with the dim's stride between rows
// when its rows allow, else gathered a block at a time into scratch (row stride inner).
template <typename T>
struct BlockReader {
  const T* data;
  const DimLayout& layout;
  bool in_place;
  bool evenly_spaced;  // read in place, block o at data + o * block_stride: many blocks per call
  int64_t row_stride;
  BlockReader(const T* data, const DimLayout& layout, bool any_row_stride)
      : data(data), layout(layout), in_place(layout.readable_in_place(any_row_stride)),
        evenly_spaced(in_place && layout.evenly_spaced), row_stride(in_place ? layout.stride : layout.inner) {}
  // The evenly spaced blocks from `begin` on.
  Blocks<T> from(int64_t begin) const {
    return {data + begin * layout.block_stride, layout.block_stride, row_stride};
  }
  // Block o alone; `copy` has room for a block when it is not read in place.
  Blocks<T> block(int64_t o, T* copy) const {
    const T* start = data + layout.block_offset(o);
    if (in_place) return {start, 0, row_stride};
    gather_block(copy, start, layout);
    return {copy, 0, row_stride};
  }
};

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& out, const Tensor& input, const std::vector<bool>& reduced) {
  dispatch_all(input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    switch (op) {
      case ReduceOp::Sum: return reduce_typed<ReduceOp::Sum, T>(out, input, reduced);
      case ReduceOp::Prod: return reduce_typed<ReduceOp::Prod, T>(out, input, reduced);
      case ReduceOp::Max: return reduce_typed<ReduceOp::Max, T>(out, input, reduced);
      case ReduceOp::Min: return reduce_typed<ReduceOp::Min, T>(out, input, reduced);
    }
  });
}

void CpuBackend::arg_reduce(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& input,
                            int64_t dim) {
  const DimLayout layout(input, dim);
  dispatch_all(input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = input.data_ptr<T>();
    T* value_data = values.data_ptr<T>();
    int64_t* index_data = indices.data_ptr<int64_t>();
    // The first extreme wins ties; a NaN beats any number, and the first NaN beats later ones.
    auto better = [is_max](T candidate, T best) {
      if (candidate != candidate) return best == best;
      return is_max ? candidate > best : candidate < best;
    };
    // Row d of a block holds its inner elements at d * stride + offset(j); the loop over j is
    // the vectorised one when they are contiguous. (Locals, not layout's members: the stores to
    // `where` could alias those, and the loops would reload them.)
    const int64_t size = layout.size, stride = layout.stride, inner = layout.inner;
    auto run = [&](auto offset) {
      for_each_block_range<T>(layout.outer, input.numel(), 0, [&](int64_t begin, int64_t end, T*) {
        for (int64_t o = begin; o < end; ++o) {
          const T* block = in + layout.block_offset(o);
          T* best = value_data + o * inner;
          int64_t* where = index_data + o * inner;
          for (int64_t j = 0; j < inner; ++j) { best[j] = block[offset(j)]; where[j] = 0; }
          for (int64_t d = 1; d < size; ++d) {
            const T* row = block + d * stride;
            for (int64_t j = 0; j < inner; ++j)
              if (better(row[offset(j)], best[j])) { best[j] = row[offset(j)]; where[j] = d; }
          }
        }
      });
    };
    if (!layout.inner_offsets.empty()) run([&](int64_t j) { return layout.inner_offsets[j]; });
    else if (layout.inner_stride == 1) run([](int64_t j) { return j; });
    else run([stride = layout.inner_stride](int64_t j) { return j * stride; });
  });
}

void CpuBackend::softmax(const Tensor& out, const Tensor& input, int64_t dim, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  const DimLayout layout(input, dim);
  const int64_t size = layout.size, inner = layout.inner, block_size = size * inner;
  dispatch_floating(input.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* out_data = out.data_ptr<T>();
    const FloatReduceKernels fast = float_kernels();
    auto run = [&](T* result, Blocks<T> in, int64_t blocks, T* scratch) {
      if constexpr (std::is_same_v<T, float>) fast.softmax(result, in, blocks, size, inner, log, scratch);
      else softmax_blocks(result, in, blocks, size, inner, log, scratch);
    };
    const BlockReader<T> reader(input.data_ptr<T>(), layout, false);
    // Scratch: the running max and sum per inner element, then room for a gathered block.
    const int64_t scratch_count = 2 * inner + (reader.in_place ? 0 : block_size);
    for_each_block_range<T>(layout.outer, input.numel(), scratch_count, [&](int64_t begin, int64_t end, T* scratch) {
      if (reader.evenly_spaced) return run(out_data + begin * block_size, reader.from(begin), end - begin, scratch);
      for (int64_t o = begin; o < end; ++o)
        run(out_data + o * block_size, reader.block(o, scratch + 2 * inner), 1, scratch);
    });
  });
}

void CpuBackend::softmax_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& output, int64_t dim,
                                  bool log) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  const DimLayout grad_layout(grad, dim), output_layout(output, dim);
  const int64_t size = grad_layout.size, inner = grad_layout.inner, block_size = size * inner;
  dispatch_floating(grad.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* grad_input_data = grad_input.data_ptr<T>();
    const FloatReduceKernels fast = float_kernels();
    auto run = [&](T* result, Blocks<T> grads, Blocks<T> outputs, int64_t blocks, T* scratch) {
      if constexpr (std::is_same_v<T, float>)
        fast.softmax_backward(result, grads, outputs, blocks, size, inner, log, scratch);
      else
        softmax_backward_blocks(result, grads, outputs, blocks, size, inner, log, scratch);
    };
    // The backward block reads rows of any stride, so only scattered inner elements are gathered.
    const BlockReader<T> grads(grad.data_ptr<T>(), grad_layout, true);
    const BlockReader<T> outputs(output.data_ptr<T>(), output_layout, true);
    // Scratch: a sum per inner element, then room for each operand's gathered block.
    const int64_t grad_copy = inner, output_copy = grad_copy + (grads.in_place ? 0 : block_size);
    const int64_t scratch_count = output_copy + (outputs.in_place ? 0 : block_size);
    for_each_block_range<T>(grad_layout.outer, grad.numel(), scratch_count, [&](int64_t begin, int64_t end, T* scratch) {
      if (grads.evenly_spaced && outputs.evenly_spaced)
        return run(grad_input_data + begin * block_size, grads.from(begin), outputs.from(begin), end - begin, scratch);
      for (int64_t o = begin; o < end; ++o)
        run(grad_input_data + o * block_size, grads.block(o, scratch + grad_copy),
            outputs.block(o, scratch + output_copy), 1, scratch);
    });
  });
}

}  // namespace tg::cpu
