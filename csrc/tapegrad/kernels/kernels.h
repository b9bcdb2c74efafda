// The kernel entry points ops call. Each takes tensors whose shapes and dtypes the op has already
// checked and whose output is allocated, and runs the backend of the device its tensors share
// (kernels/dispatch.cpp): the CPU backend is kernels/cpu (declared in kernels/cpu/backend.h), and a
// CUDA backend adds its kernels behind these same declarations. Tensors on different devices are a
// RuntimeError, a device without a backend in this build a NotImplementedError, both naming the op.
// The families with parameter types of their own have headers of their own: creation.h, matmul.h,
// loss.h and optim.h next to this one.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tapegrad/core/scalar.h"
#include "tapegrad/core/tensor.h"

namespace tg::kernels {

// dst[...] = src[...] converted to dst's dtype; src broadcasts to dst's shape.
void copy(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, Scalar value);

// Elementwise: inputs already converted to the compute dtype and broadcastable to out. Integer
// FloorDivide/TruncDivide/Remainder expect no zero divisor (the op checks; a kernel cannot throw
// from inside its threads).
enum class BinaryOp { Add, Sub, Mul, Div, FloorDivide, TruncDivide, Remainder, Pow, Maximum, Minimum,
                      Eq, Ne, Lt, Le, Gt, Ge };
void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);
// Floor, Ceil, Round and Trunc of an integer tensor copy it; Round rounds half to even.
enum class UnaryOp { Neg, Exp, Log, Sqrt, Rsqrt, Abs, Sign, Sin, Cos, Tanh, Sigmoid, Relu, LogicalNot,
                     Atan, Asin, Acos, Tan, Sinh, Cosh, Log1p, Expm1, Log2, Log10, Exp2, Erf,
                     Floor, Ceil, Round, Trunc, Frac, Reciprocal };
void unary(UnaryOp op, const Tensor& out, const Tensor& a);
// A NaN bound makes every element NaN, as in PyTorch.
void clamp(const Tensor& out, const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max);
// out = condition ? a : b, condition bool.
void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b);
// out = output > 0 ? grad : 0
void threshold_backward(const Tensor& out, const Tensor& grad, const Tensor& output);

// ---- index: gather/scatter through precomputed element offsets (ops/index.cpp lays them out) ---
// Element (p, j, a) of an advanced index sits at outer[p] + index[j] + inner[a] in the indexed
// tensor and at (p * |index| + j) * |inner| + a in the contiguous result.
struct IndexOffsets {
  std::vector<int64_t> outer, index, inner;
  bool inner_is_run = false;  // inner[a] == a: rows copy with memcpy
};
// out (contiguous) = src at the offsets.
void index_gather(const Tensor& out, const Tensor& src, const IndexOffsets& offsets);
// dst at the offsets = (or += when accumulate) values (contiguous, dst's dtype, the result's shape).
// Repeated offsets accumulate; without accumulate the last write wins.
void index_put(const Tensor& dst, const Tensor& values, const IndexOffsets& offsets, bool accumulate);
// offsets[j] += index[j] * stride for an index (contiguous int64, one entry per offset) into a dim
// of `size` elements; negative indices count from the end. IndexError naming `op` and `dim` for an
// index out of range.
void add_index_offsets(std::vector<int64_t>& offsets, const Tensor& index, int64_t size, int64_t stride, int64_t dim,
                       const char* op);
int64_t count_nonzero(const Tensor& self);
// out: (count_nonzero(self), self.dim()) int64, contiguous.
void nonzero(const Tensor& out, const Tensor& self);

}  // namespace tg::kernels

// ---- reductions and softmax ----------------------------------------------------------------------

namespace tg::kernels {

enum class ReduceOp { Sum, Prod, Max, Min };
// out (input's shape reduced over the dims marked in `reduced`, with or without keepdim's size-1
// dims, any strides) = op over those dims, in input's dtype. max/min propagate NaN; an empty reduction gives the op's identity.
void reduce(ReduceOp op, const Tensor& out, const Tensor& input, const std::vector<bool>& reduced);
// The dim-wise kernels take inputs of any strides (views are read in place where their rows allow,
// else gathered a block at a time) and write contiguous outputs.
// Reducing `dim` (size > 0) of input: values and int64 indices, contiguous, of input's shape with
// dim of size 1. The first extreme wins ties; NaN counts as the extreme.
void arg_reduce(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& input, int64_t dim);
// out (contiguous, input's shape) = softmax (or log_softmax) of input over dim.
void softmax(const Tensor& out, const Tensor& input, int64_t dim, bool log);
// softmax: grad_input = output * (grad - sum(grad * output)); log: grad - exp(output) * sum(grad).
// grad_input contiguous; grad and output of its shape.
void softmax_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& output, int64_t dim, bool log);

}  // namespace tg::kernels
