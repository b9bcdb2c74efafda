#include "tapegrad/ops/copy.h"

#include <algorithm>

#include "tapegrad/autograd/node.h"
#include "tapegrad/autograd/inplace.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/view.h"

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

Tensor& fill_with_history(Tensor& self, Scalar value, const char* op, const char* node_name) {
  const bool record = check_inplace(self, op, false, /*idempotent=*/true);
  value.check_fits(self.dtype(), op);
  std::shared_ptr<Node> node;
  if (record) {
    node = make_node<FillBackward>(node_name);
    node->connect({&self}, {&self});
  }
  kernels::backend("fill_", self)->fill(self, value);
  self.impl()->bump_version();
  if (node) rebase_history(self, std::move(node));
  return self;
}

// A new tensor of `dtype` holding self's values. A preserved layout that is not row-major is
// copied in its memory order, so that both sides stream rather than one striding.
Tensor copy_to_new(const Tensor& self, DType dtype, MemoryFormat format, const char* op) {
  Tensor out = format == MemoryFormat::Preserve ? Tensor::empty_like_layout(self, dtype, self.device(), op)
                                                : Tensor::empty(self.sizes(), dtype, self.device(), op);
  if (out.is_contiguous()) {
    kernels::backend("copy", out, self)->copy(out, self);
    return out;
  }
  DimVector outermost_first = memory_order(out.sizes(), out.strides());
  std::reverse(outermost_first.begin(), outermost_first.end());
  NoGradGuard no_grad;
  kernels::backend("copy", out, self)->copy(permute(out, outermost_first), permute(self, outermost_first));
  return out;
}

}  // namespace

Tensor clone(const Tensor& self, MemoryFormat format) {
  Tensor out = copy_to_new(self, self.dtype(), format, "clone");
  if (needs_grad(self)) make_node<CloneBackward0>()->connect({&self}, {&out});
  return out;
}

Tensor contiguous(const Tensor& self) { return self.is_contiguous() ? self : clone(self); }

Tensor to_dtype(const Tensor& self, DType dtype, bool copy, MemoryFormat format) {
  if (dtype == self.dtype() && !copy) return self;
  if (dtype == self.dtype()) return clone(self, format);
  Tensor out = copy_to_new(self, dtype, format, "to");
  if (is_floating(dtype) && needs_grad(self)) make_node<ToCopyBackward0>(self.dtype())->connect({&self}, {&out});
  return out;
}

Tensor& copy_(Tensor& self, const Tensor& src) {
  const bool record = check_inplace(self, "copy_", src.requires_grad());
  TG_CHECK(src.sizes() == self.sizes() || broadcast_shapes(self.sizes(), src.sizes(), "copy_") == self.sizes(),
           "copy_", "cannot broadcast a tensor of shape ", src.sizes(), " into one of shape ", self.sizes());
  std::shared_ptr<Node> node;
  if (record) {
    node = make_node<CopyBackwards>(src.dtype());
    node->connect({&self, &src}, {&self});
  }
  kernels::backend("copy", self, src)->copy(self, src);
  self.impl()->bump_version();
  if (node) rebase_history(self, std::move(node));
  return self;
}

Tensor& fill_(Tensor& self, Scalar value) { return fill_with_history(self, value, "fill_", "FillBackward2"); }

Tensor& zero_(Tensor& self) { return fill_with_history(self, Scalar(0), "zero_", "ZeroBackward0"); }

}  // namespace tg
