// The parameter types of the elementwise, index and reduction kernels, whose entry points
// kernels/backend.h declares and documents. The other families' parameter types have headers of
// their own next to this one: creation.h, loss.h and optim.h.
#pragma once

#include <cstdint>
#include <vector>

namespace tg::kernels {

// Elementwise (Backend::binary and Backend::unary).
enum class BinaryOp { Add, Sub, Mul, Div, FloorDivide, TruncDivide, Remainder, Pow, Maximum, Minimum,
                      Eq, Ne, Lt, Le, Gt, Ge };
// Floor, Ceil, Round and Trunc of an integer tensor copy it; Round rounds half to even.
enum class UnaryOp { Neg, Exp, Log, Sqrt, Rsqrt, Abs, Sign, Sin, Cos, Tanh, Sigmoid, Relu, LogicalNot,
                     Atan, Asin, Acos, Tan, Sinh, Cosh, Log1p, Expm1, Log2, Log10, Exp2, Erf,
                     Floor, Ceil, Round, Trunc, Frac, Reciprocal };

// ---- index: gather/scatter through precomputed element offsets (ops/index.cpp lays them out) ---
// Element (p, j, a) of an advanced index sits at outer[p] + index[j] + inner[a] in the indexed
// tensor and at (p * |index| + j) * |inner| + a in the contiguous result.
struct IndexOffsets {
  std::vector<int64_t> outer, index, inner;
  bool inner_is_run = false;  // inner[a] == a: rows copy with memcpy
};

// ---- reductions (Backend::reduce) ----------------------------------------------------------------

enum class ReduceOp { Sum, Prod, Max, Min };

}  // namespace tg::kernels
