// Random draws whose distribution a tensor gives: torch.multinomial and torch.bernoulli, from the
// generator of the current GeneratorScope (kernels/creation.h) or the default one.
#pragma once

#include <cstdint>

#include "tapegrad/core/tensor.h"

namespace tg {

// Category indices (int64) drawn from each row of probabilities (1-D or 2-D, floating,
// non-negative, not necessarily normalised): (num_samples) or (rows, num_samples).
Tensor multinomial(const Tensor& probabilities, int64_t num_samples, bool replacement);
// 0 or 1 in probabilities' dtype, each 1 with the probability its element holds (in [0, 1]). Its
// gradient is zero (BernoulliBackward0, as PyTorch records it).
Tensor bernoulli(const Tensor& probabilities);
Tensor bernoulli(const Tensor& self, double p);  // self's shape and dtype, each 1 with probability p
// In place: p is a number or a tensor broadcastable to self.
Tensor& bernoulli_(Tensor& self, const Tensor& p);
Tensor& bernoulli_(Tensor& self, double p);

}  // namespace tg
