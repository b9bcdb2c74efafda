// Kernel entry points for tensors made from nothing: ranges, identity and random draws. Each fills
// an allocated tensor (see kernels.h for how the backend is chosen). Random draws come from one
// generator per backend, which manual_seed resets together (as torch.manual_seed does).
#pragma once

#include <cstdint>

#include "tapegrad/core/scalar.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/ops/creation.h"  // RngState

namespace tg::kernels {

// out (contiguous, 1-D) = start + i * step: stepped in int64 for a non-floating out (start and
// step truncated), in double otherwise.
void arange(const Tensor& out, Scalar start, Scalar step);
// out (contiguous, 1-D) = numel points from start to end, filled from both ends so the last is
// exactly end.
void linspace(const Tensor& out, double start, double end);
// out (contiguous, 2-D) = ones on the main diagonal, zeros elsewhere.
void eye(const Tensor& out);

void manual_seed(uint64_t seed);
uint64_t initial_seed();
// The CPU generator's whole state, as torch.get_rng_state gives it.
RngState get_rng_state();
void set_rng_state(const RngState& state);
// self (any view, floating) = draws, in self's row-major order.
void uniform(const Tensor& self, double low, double high);
void normal(const Tensor& self, double mean, double std);
// self (any view) = integers drawn uniformly from [low, high), low < high.
void randint(const Tensor& self, int64_t low, int64_t high);
// out (contiguous, 1-D) = a random permutation of 0 .. numel - 1.
void randperm(const Tensor& out);

}  // namespace tg::kernels
