#include "tapegrad/ops/copy.h"

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/kernels.h"
#include "tapegrad/ops/creation.h"

namespace tg {

namespace {

struct CloneBackward0 final : Node {
  TensorList apply(TensorList&& grads) override { return {std::move(grads[0])}; }
  std::string name() const override { return "CloneBackward0"; }
};

struct ToCopyBackward0 final : Node {
  DType input_dtype;
  explicit ToCopyBackward0(DType dtype) : input_dtype(dtype) {}
  TensorList apply(TensorList&& grads) override { return {to_dtype(grads[0], input_dtype)}; }
  std::string name() const override { return "ToCopyBackward0"; }
};

// copy_ replaces self's values by src's: self's old history gets no gradient, src gets it all.
struct CopyBackwards final : Node {
  DType src_dtype;
  explicit CopyBackwards(DType dtype) : src_dtype(dtype) {}
  TensorList apply(TensorList&& grads) override { return {Tensor(), to_dtype(grads[0], src_dtype)}; }
  std::string name() const override { return "CopyBackwards"; }
};

// fill_ and zero_: the new values do not depend on the old ones, so the old history gets a zero
// gradient (PyTorch's FillBackward2/ZeroBackward0) and the tensor stays differentiable.
struct FillBackward final : Node {
  const char* node_name;
  explicit FillBackward(const char* name) : node_name(name) {}
  TensorList apply(TensorList&& grads) override { return {zeros_like(grads[0])}; }
  std::string name() const override { return node_name; }
};

Tensor& fill_impl(Tensor& self, Scalar value, const char* op, const char* node_name) {
  check_inplace(self, op);
  kernels::fill(self, value);
  self.impl()->bump_version();
  if (needs_grad(self)) make_node<FillBackward>(node_name)->connect({&self}, {&self});
  return self;
}

}  // namespace

void check_inplace(const Tensor& self, const char* op, bool other_requires_grad) {
  if (!GradMode::is_enabled()) return;
  TG_CHECK(!(self.is_leaf() && self.requires_grad()), "[", op,
           "] a leaf tensor that requires grad is being used in an in-place operation; wrap the update in "
           "tapegrad.no_grad() or operate on .data");
  TG_CHECK(!(self.impl()->is_view() && (self.requires_grad() || other_requires_grad)), "[", op,
           "] in-place operations on views are not differentiable in tapegrad; use the out-of-place op "
           "(or .clone() the view first)");
}

Tensor clone(const Tensor& self) {
  Tensor out = Tensor::empty(self.sizes(), self.dtype(), self.device(), "clone");
  kernels::copy(out, self);
  if (needs_grad(self)) make_node<CloneBackward0>()->connect({&self}, {&out});
  return out;
}

Tensor contiguous(const Tensor& self) { return self.is_contiguous() ? self : clone(self); }

Tensor to_dtype(const Tensor& self, DType dtype, bool copy) {
  if (dtype == self.dtype() && !copy) return self;
  if (dtype == self.dtype()) return clone(self);
  Tensor out = Tensor::empty(self.sizes(), dtype, self.device(), "to");
  kernels::copy(out, self);
  if (is_floating(dtype) && needs_grad(self)) make_node<ToCopyBackward0>(self.dtype())->connect({&self}, {&out});
  return out;
}

Tensor& copy_(Tensor& self, const Tensor& src) {
  check_inplace(self, "copy_", src.requires_grad());
  TG_CHECK(src.sizes() == self.sizes() || broadcast_shapes(self.sizes(), src.sizes(), "copy_") == self.sizes(),
           "[copy_] cannot broadcast a tensor of shape ", src.sizes(), " into one of shape ", self.sizes());
  kernels::copy(self, src);
  self.impl()->bump_version();
  if (needs_grad(self, src)) {
    auto node = make_node<CopyBackwards>(src.dtype());
    node->connect({&self, &src}, {&self});
  }
  return self;
}

Tensor& fill_(Tensor& self, Scalar value) { return fill_impl(self, value, "fill_", "FillBackward2"); }

Tensor& zero_(Tensor& self) { return fill_impl(self, Scalar(0), "zero_", "ZeroBackward0"); }

}  // namespace tg
