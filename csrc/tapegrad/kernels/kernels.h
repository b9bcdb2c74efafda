// The kernel entry points ops call. Each takes tensors whose shapes and dtypes the op has already
// checked and whose output is allocated, and picks the implementation by device: today only
// kernels/cpu exists, and a CUDA backend adds its kernels behind these same declarations.
#pragma once

#include <cstdint>
#include <optional>

#include "tapegrad/core/scalar.h"
#include "tapegrad/core/tensor.h"

namespace tg::kernels {

// Throws "[op] not implemented for device X" unless every tensor lives on the CPU.
void require_cpu(const char* op, const Tensor& tensor);

// dst[...] = src[...] converted to dst's dtype; src broadcasts to dst's shape.
void copy(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, Scalar value);

// Elementwise: inputs already converted to the compute dtype and broadcastable to out.
enum class BinaryOp { Add, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge };
void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b);
enum class UnaryOp { Neg, Exp, Log, Sqrt, Rsqrt, Abs, Sign, Sin, Cos, Tanh, Sigmoid, Relu, LogicalNot };
void unary(UnaryOp op, const Tensor& out, const Tensor& a);
void clamp(const Tensor& out, const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max);
// out = condition ? a : b, condition bool.
void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b);
// out = output > 0 ? grad : 0
void threshold_backward(const Tensor& out, const Tensor& grad, const Tensor& output);

}  // namespace tg::kernels
