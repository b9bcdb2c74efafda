// Tensor's autograd methods, with PyTorch's names and meanings (declared in core/tensor.h, which
// knows nothing of what they do).
#include "tapegrad/autograd/variable.h"

#include <atomic>

#include "tapegrad/autograd/engine.h"
#include "tapegrad/autograd/inplace.h"
#include "tapegrad/autograd/node.h"
#include "tapegrad/core/inference_mode.h"

namespace tg {

AutogradMeta& ensure_autograd_meta(TensorImpl& impl) {
  if (!impl.autograd_meta()) impl.set_autograd_meta(std::make_unique<AutogradMeta>());
  return *autograd_meta(impl);
}

namespace {
bool has_history_or_requires_grad(const TensorImpl& impl) {
  const AutogradMeta* meta = autograd_meta(impl);
  return meta && (meta->requires_grad || meta->grad_fn);
}
}  // namespace

bool Tensor::requires_grad() const {
  if (has_history_or_requires_grad(*impl_)) return true;
  // As in PyTorch, a view requires grad whenever its base does, even before it has a grad_fn of its
  // own (a view made in no_grad mode, or before the base took history from an in-place op).
  return impl_->is_view() && has_history_or_requires_grad(*impl_->view_base());
}

Tensor& Tensor::requires_grad_(bool requires_grad) {
  TG_CHECK(is_leaf(), "requires_grad_", "you can only change requires_grad flags of leaf tensors; this one has grad_fn ",
           grad_fn()->name(), ". Use .detach() to get a leaf.");
  TG_CHECK(!requires_grad || is_floating(dtype()),
           "requires_grad_", "only tensors of floating point dtype can require gradients, got ", dtype_name(dtype()));
  TG_CHECK(!requires_grad || !impl_->is_inference() || InferenceMode::is_enabled(),
           "requires_grad_", "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.");
  if (requires_grad || autograd_meta(*impl_)) ensure_autograd_meta(*impl_).requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const {
  const AutogradMeta* meta = autograd_meta(*impl_);
  return meta ? meta->grad : Tensor();
}

void Tensor::set_grad(const Tensor& grad) const {
  if (grad.defined()) {
    TG_CHECK(grad.sizes() == sizes(), "grad", "assigned grad has shape ", grad.sizes(), " but the tensor has shape ", sizes());
    TG_CHECK(grad.dtype() == dtype(), "grad", "assigned grad has data of a different type: ", dtype_name(grad.dtype()),
             " but the tensor has dtype ", dtype_name(dtype()));
  }
  if (grad.defined() || autograd_meta(*impl_)) ensure_autograd_meta(*impl_).grad = grad;
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  if (impl_->is_view() && impl_->view_version() != impl_->version()) derive_view_grad_fn(*this, /*only_if_stale=*/true);
  const AutogradMeta* meta = autograd_meta(*impl_);
  return meta ? meta->grad_fn : none;
}

uint32_t Tensor::output_nr() const {
  const AutogradMeta* meta = autograd_meta(*impl_);
  return meta ? meta->output_nr : 0;
}

bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

void Tensor::retain_grad() const {
  TG_CHECK(requires_grad(), "retain_grad", "can't retain_grad on a tensor that has requires_grad=False");
  if (is_leaf()) return;  // leaves keep their grad anyway
  AutogradMeta& meta = ensure_autograd_meta(*impl_);
  if (meta.retains_grad) return;
  meta.retains_grad = true;
  meta.grad_fn->retain_output_grad(meta.output_nr, impl_);
}

bool Tensor::retains_grad() const {
  const AutogradMeta* meta = autograd_meta(*impl_);
  return meta && meta->retains_grad;
}

namespace {
// One numbering for both kinds of hook, so that a HookHandle's id names exactly one of them.
std::atomic<uint64_t> next_hook_id{0};
}  // namespace

uint64_t Tensor::register_hook(TensorHook hook) const {
  TG_CHECK(requires_grad(), "register_hook", "cannot register a hook on a tensor that doesn't require gradient");
  const uint64_t id = next_hook_id++;
  const std::shared_ptr<Node>& node = grad_fn();
  AutogradMeta& meta = ensure_autograd_meta(*impl_);
  if (node) node->add_output_hook(meta.output_nr, id, std::move(hook));
  else meta.hooks.emplace_back(id, std::move(hook));
  return id;
}

uint64_t register_post_accumulate_grad_hook(const Tensor& tensor, PostAccumulateGradHook hook) {
  TG_CHECK(tensor.requires_grad(),
           "register_post_accumulate_grad_hook", "cannot register a hook on a tensor that doesn't require gradient");
  TG_CHECK(tensor.is_leaf(),
           "register_post_accumulate_grad_hook", "post accumulate grad hooks cannot be registered on non-leaf tensors");
  const uint64_t id = next_hook_id++;
  ensure_autograd_meta(*tensor.impl()).post_accumulate_grad_hooks.emplace_back(id, std::move(hook));
  return id;
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph, bool create_graph) const {
  autograd::backward({*this}, {gradient}, retain_graph.value_or(create_graph), create_graph);
}

Tensor& Tensor::detach_() {
  TG_CHECK(!impl_->is_view(), "detach_", "Can't detach views in-place. Use detach() instead.");
  if (AutogradMeta* meta = autograd_meta(*impl_)) {
    meta->grad_fn = nullptr;
    meta->output_nr = 0;
    meta->requires_grad = false;
  }
  return *this;
}

void Tensor::set_data(const Tensor& data) const {
  TG_CHECK(!requires_grad() || is_floating(data.dtype()),
           "data", "data set to a tensor that requires gradients must be floating point, got ", dtype_name(data.dtype()));
  // A leaf's gradient sink expects the old shape and dtype; the next use makes a new one.
  AutogradMeta* meta = autograd_meta(*impl_);
  if (meta && (data.dtype() != dtype() || data.sizes() != sizes())) meta->grad_accumulator.reset();
  impl_->set_layout(data.impl()->storage(), data.sizes(), data.strides(), data.storage_offset(), data.dtype());
}

}  // namespace tg
