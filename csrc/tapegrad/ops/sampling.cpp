#include "tapegrad/ops/sampling.h"

#include <string>

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/view.h"

namespace tg {

namespace {

// A draw is not differentiable, but PyTorch records the op with a zero gradient so that the graph
// stays connected: torch.bernoulli(p).grad_fn is BernoulliBackward0.
struct BernoulliBackward final : Node {
  TensorList apply(TensorList&& grads) override { return {zeros_like(grads[0])}; }
  std::string name() const override { return "BernoulliBackward0"; }
};

// probabilities as the kernels read them: float64, contiguous, in self's shape.
Tensor probabilities_for(const Tensor& self, const Tensor& p) {
  return contiguous(to_dtype(expand(p, self.sizes()), DType::Float64));
}

Tensor& drawn(Tensor& self, const Tensor& p, const char* op) {
  const Tensor probabilities = probabilities_for(self, p);
  kernels::backend(op, self, probabilities)->bernoulli(self, probabilities);
  self.impl()->bump_version();
  return self;
}

}  // namespace

Tensor multinomial(const Tensor& probabilities, int64_t num_samples, bool replacement) {
  const char* op = "multinomial";
  TG_CHECK(probabilities.dim() == 1 || probabilities.dim() == 2, op, "prob_dist must be 1 or 2 dim, got shape ",
           probabilities.sizes());
  TG_CHECK(is_floating(probabilities.dtype()), op, "multinomial only supports floating-point dtypes for input, got: ",
           dtype_name(probabilities.dtype()));
  TG_CHECK(num_samples > 0, op, "cannot sample n_sample <= 0 samples");
  const int64_t categories = probabilities.size(-1);
  TG_CHECK(replacement || num_samples <= categories, op,
           "cannot sample n_sample > prob_dist.size(-1) samples without replacement (n_sample=", num_samples,
           ", prob_dist of shape ", probabilities.sizes(), ")");
  TG_CHECK(categories <= (int64_t{1} << 24), op, "number of categories cannot exceed 2^24, got ", categories);
  const Tensor rows = contiguous(to_dtype(probabilities.dim() == 1 ? unsqueeze(probabilities, 0) : probabilities,
                                          DType::Float64));
  Tensor out = Tensor::empty({rows.size(0), num_samples}, DType::Int64, probabilities.device(), op);
  kernels::backend(op, out, rows)->multinomial(out, rows, replacement);
  return probabilities.dim() == 1 ? view(out, {num_samples}) : out;
}

Tensor bernoulli(const Tensor& probabilities) {
  TG_CHECK_TYPE(is_floating(probabilities.dtype()), "bernoulli", "expects a floating-point tensor of probabilities, "
                "got ", dtype_name(probabilities.dtype()));
  Tensor out = Tensor::empty(probabilities.sizes(), probabilities.dtype(), probabilities.device(), "bernoulli");
  drawn(out, probabilities, "bernoulli");
  if (needs_grad(probabilities)) {
    auto node = make_node<BernoulliBackward>();
    node->connect({&probabilities}, {&out});
  }
  return out;
}

Tensor bernoulli(const Tensor& self, double p) {
  Tensor out = Tensor::empty(self.sizes(), self.dtype(), self.device(), "bernoulli");
  return bernoulli_(out, p);
}

Tensor& bernoulli_(Tensor& self, const Tensor& p) {
  TG_CHECK(broadcast_shapes(self.sizes(), p.sizes(), "bernoulli_") == self.sizes(), "bernoulli_", "p of shape ", p.sizes(),
           " does not broadcast to self's shape ", self.sizes());
  return drawn(self, p, "bernoulli_");
}

Tensor& bernoulli_(Tensor& self, double p) {
  TG_CHECK(p >= 0.0 && p <= 1.0, "bernoulli_", "bernoulli_ expects p to be in [0, 1], but got p=", p);
  return drawn(self, scalar_tensor(Scalar(p), DType::Float64, self.device()), "bernoulli_");
}

}  // namespace tg
