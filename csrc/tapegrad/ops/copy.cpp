#include "tapegrad/ops/copy.h"

#include <algorithm>

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/kernels.h"
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

// An in-place op on a view, as the history of the view's base: the base's new value is its old one
// with the view's elements replaced by fn(the view's old value, fn's other inputs). Backward: the
// base's gradient goes to its old value, except over the view's elements, where fn maps it to the
// gradient of the view's old value; fn's other inputs get theirs from fn.
struct CopySlices final : Node {
  StridedGeometry base, view;
  bool base_contiguous;
  std::shared_ptr<Node> fn;

  CopySlices(const Tensor& base_tensor, const Tensor& view_tensor, std::shared_ptr<Node> op)
      : base(base_tensor), view(view_tensor), base_contiguous(base_tensor.is_contiguous()), fn(std::move(op)) {
    add_next_edge(base_tensor);
    const std::vector<Edge>& fn_edges = fn->next_edges();
    for (size_t i = 1; i < fn_edges.size(); ++i) next_edges_.push_back(fn_edges[i]);
    add_output_meta(base_tensor);
    release_saved_with(*fn);
  }

  TensorList apply(TensorList&& grads) override {
    const Tensor& grad = grads[0];
    // The base's gradient, in a buffer laid out as the base lies in its storage, so that the view's
    // elements are found there by their own storage geometry.
    Tensor buffer, result;
    if (base_contiguous) {
      result = clone(grad);
      buffer = result;
    } else {
      buffer = zeros({base.end() - base.offset}, grad.dtype(), grad.device());
      result = as_strided(buffer, base.sizes, base.strides, buffer.storage_offset());
      copy_(result, grad);
    }
    Tensor slice = as_strided(buffer, view.sizes, view.strides, buffer.storage_offset() + view.offset - base.offset);
    // fn gets a copy: the slice is overwritten below, and fn may keep what it is given.
    TensorList fn_grads = fn->apply({to_dtype(slice, fn->output_meta()[0].dtype, /*copy=*/true)});
    TensorList input_grads(next_edges().size());
    if (needs_input_grad(0)) {
      if (fn_grads[0].defined()) copy_(slice, fn_grads[0]);
      else zero_(slice);
      input_grads[0] = result;
    }
    for (size_t i = 1; i < input_grads.size() && i < fn_grads.size(); ++i) input_grads[i] = std::move(fn_grads[i]);
    return input_grads;
  }
  std::string name() const override { return "CopySlices"; }
};

// Makes `node` (its output 0) the history of `tensor`; a retain_grad() follows the tensor to it
// (hooks stay with the old history, as in PyTorch).
void set_history(Tensor& tensor, const std::shared_ptr<Node>& node) {
  AutogradMeta& meta = tensor.impl()->ensure_autograd();
  meta.grad_fn = node;
  meta.output_nr = 0;
  if (meta.retains_grad) node->retain_output_grad(0, tensor.impl_ptr());
}

// PyTorch's rule: a dim of size > 1 and stride 0 makes several elements share one location. Other
// overlaps (from as_strided) are too costly to detect and are let through, as there.
void check_no_internal_overlap(const Tensor& self, const char* op) {
  for (int64_t d = 0; d < self.dim(); ++d)
    TG_CHECK(self.sizes()[d] <= 1 || self.strides()[d] != 0, "[", op,
             "] unsupported operation: more than one element of the written-to tensor refers to a single memory "
             "location (shape ", self.sizes(), ", strides ", self.strides(),
             "). Please clone() the tensor before performing the operation.");
}

Tensor& fill_with_history(Tensor& self, Scalar value, const char* op, const char* node_name) {
  const bool record = check_inplace(self, op, false, /*idempotent=*/true);
  value.check_fits(self.dtype(), op);
  std::shared_ptr<Node> node;
  if (record) {
    node = make_node<FillBackward>(node_name);
    node->connect({&self}, {&self});
  }
  kernels::fill(self, value);
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
    kernels::copy(out, self);
    return out;
  }
  DimVector outermost_first = memory_order(out.sizes(), out.strides());
  std::reverse(outermost_first.begin(), outermost_first.end());
  NoGradGuard no_grad;
  kernels::copy(permute(out, outermost_first), permute(self, outermost_first));
  return out;
}

}  // namespace

bool check_inplace(const Tensor& self, const char* op, bool other_requires_grad, bool idempotent) {
  if (!idempotent && !self.is_contiguous()) check_no_internal_overlap(self, op);
  if (!GradMode::is_enabled()) return false;
  const bool self_requires_grad = self.requires_grad();
  if (!self_requires_grad && !other_requires_grad) return false;
  const TensorImpl& impl = *self.impl();
  if (impl.is_view()) {
    TG_CHECK(!impl.view_created_in_no_grad(), "[", op,
             "] a view was created in no_grad mode and is being modified inplace with grad mode enabled. Given "
             "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
             "moving both the view and the inplace either both inside the no_grad block (if you don't want the "
             "inplace to be tracked) or both outside (if you want the inplace to be tracked).");
    TG_CHECK(!(self_requires_grad && Tensor(impl.view_base()).is_leaf()), "[", op,
             "] a view of a leaf tensor that requires grad is being used in an in-place operation; wrap the "
             "update in tapegrad.no_grad() or operate on .data");
  }
  TG_CHECK(!(self_requires_grad && self.is_leaf()), "[", op,
           "] a leaf tensor that requires grad is being used in an in-place operation; wrap the update in "
           "tapegrad.no_grad() or operate on .data");
  return true;
}

void rebase_history(Tensor& self, std::shared_ptr<Node> node) {
  if (!self.impl()->is_view()) {
    set_history(self, node);
    return;
  }
  Tensor base(self.impl()->view_base());
  set_history(base, make_node<CopySlices>(base, self, std::move(node)));
  derive_view_grad_fn(self);
}

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
           "[copy_] cannot broadcast a tensor of shape ", src.sizes(), " into one of shape ", self.sizes());
  std::shared_ptr<Node> node;
  if (record) {
    node = make_node<CopyBackwards>(src.dtype());
    node->connect({&self, &src}, {&self});
  }
  kernels::copy(self, src);
  self.impl()->bump_version();
  if (node) rebase_history(self, std::move(node));
  return self;
}

Tensor& fill_(Tensor& self, Scalar value) { return fill_with_history(self, value, "fill_", "FillBackward2"); }

Tensor& zero_(Tensor& self) { return fill_with_history(self, Scalar(0), "zero_", "ZeroBackward0"); }

}  // namespace tg
