// Tensors from nothing: filled, ranges, identity, random. RNG streams come from one generator
// seeded by manual_seed, so a seeded program is reproducible.
#pragma once

#include <cstdint>
#include <optional>

#include "tapegrad/core/scalar.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/kernels/creation.h"  // default_rng_seed, RngState

namespace tg {

struct TensorOptions {
  DType dtype = DType::Float32;
  Device device;
};

Tensor empty(const DimVector& sizes, DType dtype, Device device = {});
Tensor zeros(const DimVector& sizes, DType dtype, Device device = {});
Tensor ones(const DimVector& sizes, DType dtype, Device device = {});
Tensor full(const DimVector& sizes, Scalar value, DType dtype, Device device = {});
// like's shape, and like's strides where they are a permutation of a contiguous layout (PyTorch's
// preserve_format: zeros_like(x.t()) is itself transposed), else dense strides in like's order.
Tensor empty_like(const Tensor& like);
Tensor zeros_like(const Tensor& like);
Tensor ones_like(const Tensor& like);
Tensor full_like(const Tensor& like, Scalar value);
// A 0-dim tensor holding `value` converted as a cast would (unchecked: arithmetic with a Python
// number wraps it to the tensor's dtype, as PyTorch does; full() refuses what does not fit).
Tensor scalar_tensor(Scalar value, DType dtype, Device device = {});

Tensor arange(Scalar start, Scalar end, Scalar step, DType dtype, Device device = {});
Tensor linspace(double start, double end, int64_t steps, DType dtype, Device device = {});
Tensor eye(int64_t rows, int64_t cols, DType dtype, Device device = {});

// The generator starts from default_rng_seed; RngState is its whole state (kernels/creation.h).
void manual_seed(uint64_t seed);
uint64_t initial_seed();
RngState get_rng_state();
void set_rng_state(const RngState& state);
Tensor rand(const DimVector& sizes, DType dtype, Device device = {});
Tensor randn(const DimVector& sizes, DType dtype, Device device = {});
Tensor randint(int64_t low, int64_t high, const DimVector& sizes, DType dtype, Device device = {});
Tensor randperm(int64_t n, DType dtype, Device device = {});
// In place, under no_grad by nature (they are initialisers).
Tensor& uniform_(Tensor& self, double low, double high);
Tensor& normal_(Tensor& self, double mean, double std);

}  // namespace tg
