// The rules of history for in-place ops and views, in one place, as PyTorch's: an in-place op on
// self checks that it may write (check_inplace) and then makes its node self's history
// (rebase_history); for a view, the history rewritten is its base's (a CopySlices node), and any view
// whose storage version moved since its grad_fn was derived derives it again from the base's
// (derive_view_grad_fn, which Tensor::grad_fn calls). A saved tensor written in place since it was
// saved is refused when backward unpacks it (check_saved_version).
#include "tapegrad/autograd/inplace.h"

#include <algorithm>
#include <mutex>

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/inference_mode.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/view.h"

namespace tg {

namespace {

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
    std::vector<Edge> edges{gradient_edge(base_tensor)};
    const std::vector<Edge>& fn_edges = fn->next_edges();
    edges.insert(edges.end(), fn_edges.begin() + std::min<size_t>(1, fn_edges.size()), fn_edges.end());
    set_next_edges(std::move(edges));
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
  AutogradMeta& meta = ensure_autograd_meta(*tensor.impl());
  meta.grad_fn = node;
  meta.output_nr = 0;
  if (meta.retains_grad) node->retain_output_grad(0, tensor.impl_ptr());
}

// PyTorch's rule: a dim of size > 1 and stride 0 makes several elements share one location. Other
// overlaps (from as_strided) are too costly to detect and are let through, as there.
void check_no_internal_overlap(const Tensor& self, const char* op) {
  for (int64_t d = 0; d < self.dim(); ++d)
    TG_CHECK(self.sizes()[d] <= 1 || self.strides()[d] != 0, op, "unsupported operation: more than one element of the written-to tensor refers to a single memory "
             "location (shape ", self.sizes(), ", strides ", self.strides(),
             "). Please clone() the tensor before performing the operation.");
}

}  // namespace

void check_not_inference(const Tensor& self, const char* op) {
  TG_CHECK(!self.impl()->is_inference() || InferenceMode::is_enabled(), op, "Inplace update to inference tensor outside "
           "InferenceMode is not allowed. You can make a clone to get a normal tensor before doing inplace update.");
}

bool check_inplace(const Tensor& self, const char* op, bool other_requires_grad, bool idempotent) {
  check_not_inference(self, op);
  if (!idempotent && !self.is_contiguous()) check_no_internal_overlap(self, op);
  if (!GradMode::is_enabled()) return false;
  const bool self_requires_grad = self.requires_grad();
  if (!self_requires_grad && !other_requires_grad) return false;
  const TensorImpl& impl = *self.impl();
  if (impl.is_view()) {
    TG_CHECK(!impl.view_created_in_no_grad(), op, "a view was created in no_grad mode and is being modified inplace with grad mode enabled. Given "
             "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
             "moving both the view and the inplace either both inside the no_grad block (if you don't want the "
             "inplace to be tracked) or both outside (if you want the inplace to be tracked).");
    TG_CHECK(!(self_requires_grad && Tensor(impl.view_base()).is_leaf()), op, "a view of a leaf tensor that requires grad is being used in an in-place operation; wrap the "
             "update in tapegrad.no_grad() or operate on .data");
  }
  TG_CHECK(!(self_requires_grad && self.is_leaf()), op, "a leaf tensor that requires grad is being used in an in-place operation; wrap the update in "
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

void derive_view_grad_fn(const Tensor& view, bool only_if_stale) {
  // Ops record without the GIL, so two threads may find the same stale view at once. Without the
  // lock both would write its grad_fn (a shared_ptr, torn by concurrent writes); with it, the
  // second finds the history current and leaves it. Stale views are rare, so one lock serves all.
  // The history this replaces is released only after the lock is: its nodes may hold Python
  // objects (hooks, Functions), whose release takes the GIL, and a thread holding the GIL may be
  // waiting for this lock.
  std::shared_ptr<Node> replaced_history;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  TensorImpl& impl = *view.impl();
  if (only_if_stale && impl.view_version() == impl.version()) return;
  const Tensor base(impl.view_base());
  const AutogradMeta* meta = autograd_meta(impl);
  if (!(meta && meta->grad_fn) && !base.requires_grad()) return;
  if (impl.view_created_in_no_grad())
    fail<Error>("autograd", "a view was created in no_grad mode and its base or another view of its base has "
                "been modified inplace with grad mode enabled. Given that this use case is ambiguous and "
                "error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace "
                "either both inside the no_grad block (if you don't want the inplace to be tracked) or both "
                "outside (if you want the inplace to be tracked).");
  if (meta) replaced_history = meta->grad_fn;
  // The view's new history is the base's viewed as this view views it: as_strided's node, from
  // the view's place in the base's storage (recorded whatever the caller's grad mode).
  std::shared_ptr<Node> node;
  {
    GradModeGuard record(true);
    node = as_strided(base, view.sizes(), view.strides(), view.storage_offset()).grad_fn();
  }
  Tensor output = view;
  set_history(output, node);
  impl.set_view_version(impl.version());
}

void check_saved_version(const Tensor& saved, uint32_t saved_version, const std::string& node_name) {
  const uint32_t current_version = saved.impl()->version();
  TG_CHECK(current_version == saved_version, node_name,
           "one of the tensors needed for gradient computation has been modified by an in-place operation: it is "
           "at version ", current_version, "; expected version ", saved_version,
           " instead. Use out-of-place ops (or .clone()) on tensors that autograd saves.");
}

}  // namespace tg
