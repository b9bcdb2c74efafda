#include "tapegrad/autograd/node.h"

#include <algorithm>
#include <mutex>
#include <optional>

#include "tapegrad/autograd/inplace.h"
#include "tapegrad/core/profiler.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/compare.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/elementwise.h"

namespace tg {

namespace {
// Creation order within a thread: the engine runs the newest node first, which walks the tape
// backwards and guarantees a node runs after every node that feeds it gradient.
thread_local uint64_t t_next_sequence_nr = 0;
}  // namespace

Node::Node() : sequence_nr_(0) {}

void Node::add_output_hook(uint32_t output_nr, uint64_t hook_id, TensorHook hook) {
  output_hooks_.push_back({output_nr, hook_id, std::move(hook)});
}

void Node::remove_output_hook(uint64_t hook_id) {
  std::erase_if(output_hooks_, [hook_id](const OutputHook& entry) { return entry.id == hook_id; });
}

void Node::retain_output_grad(uint32_t output_nr, const std::shared_ptr<TensorImpl>& tensor) {
  retained_outputs_.emplace_back(output_nr, tensor);
}

namespace {
// Runs one hook on `grad`. Its result, if any, replaces grad, but must be a gradient of the same
// shape, dtype and device (PyTorch's rule: the engine already brought grad to what the tensor
// expects). `node` and `output_nr` name the hooked tensor in the error.
void apply_hook(const TensorHook& hook, Tensor& grad, const Node& node, uint32_t output_nr) {
  Tensor result = hook(grad);
  if (!result.defined()) return;
  if (result.dtype() != grad.dtype() || result.sizes() != grad.sizes() || result.device() != grad.device()) {
    const std::string owner = dynamic_cast<const AccumulateGrad*>(&node)
                                  ? std::string("a leaf tensor")
                                  : "output " + std::to_string(output_nr) + " of " + node.name();
    TG_CHECK(result.dtype() == grad.dtype(), "backward", "a hook on ", owner, " has changed the type of value (was ",
             dtype_name(grad.dtype()), " got ", dtype_name(result.dtype()), ")");
    TG_CHECK(result.sizes() == grad.sizes(), "backward", "a hook on ", owner, " has changed the size of value (was ",
             grad.sizes(), " got ", result.sizes(), ")");
    fail<Error>("backward", "a hook on ", owner, " has changed the device of value (was ", grad.device().str(), " got ",
                result.device().str(), ")");
  }
  grad = std::move(result);
}
}  // namespace

void Node::run_output_hooks(uint32_t output_nr, Tensor& grad) {
  if (!grad.defined() || (output_hooks_.empty() && retained_outputs_.empty())) return;
  const std::vector<OutputHook> hooks = output_hooks_;  // a copy: a hook may remove hooks while it runs
  for (const OutputHook& entry : hooks)
    if (entry.output_nr == output_nr) apply_hook(entry.hook, grad, *this, output_nr);
  for (auto& [retained_output, weak_tensor] : retained_outputs_) {
    if (retained_output != output_nr) continue;
    auto tensor_impl = weak_tensor.lock();
    // An in-place op moved the tensor's retain_grad() on to its new history.
    if (!tensor_impl || autograd_meta(*tensor_impl)->grad_fn.get() != this) continue;
    Tensor tensor(tensor_impl);
    const Tensor previous = tensor.grad();
    // Grad mode is on only under create_graph, where the retained grad keeps its history.
    tensor.set_grad(previous.defined() ? add(previous, grad) : clone(grad));
  }
}

void Node::set_next_edges(std::vector<Edge> edges) {
  next_edges_ = std::move(edges);
  sequence_nr_ = t_next_sequence_nr++;
}

void Node::add_output(Tensor& output) {
  AutogradMeta& meta = ensure_autograd_meta(*output.impl());
  meta.grad_fn = shared_from_this();
  meta.output_nr = static_cast<uint32_t>(output_meta_.size());
  add_output_meta(output);
}

void Node::connect(std::initializer_list<const Tensor*> inputs, std::initializer_list<Tensor*> outputs) {
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (const Tensor* input : inputs) edges.push_back(gradient_edge(*input));
  set_next_edges(std::move(edges));
  for (Tensor* output : outputs) add_output(*output);
}

void Node::connect(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) {
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (const Tensor& input : inputs) edges.push_back(gradient_edge(input));
  set_next_edges(std::move(edges));
  for (Tensor& output : outputs) add_output(output);
}

bool any_needs_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& input : inputs)
    if (input.defined() && input.requires_grad()) return true;
  return false;
}

Edge gradient_edge(const Tensor& tensor) {
  if (!tensor.defined()) return {};
  const std::shared_ptr<Node>& grad_fn = tensor.grad_fn();  // brings a view's history up to date
  AutogradMeta* meta = autograd_meta(*tensor.impl());
  if (!meta) return {};
  if (grad_fn) return {grad_fn, meta->output_nr};
  if (!meta->requires_grad) return {};
  // Ops record without the Python GIL, so two threads may want a leaf's sink at once: it is made
  // under a lock, so that both get the same one (two sinks would each write .grad on their own).
  static std::mutex accumulator_mutex;
  std::lock_guard<std::mutex> lock(accumulator_mutex);
  if (!meta->grad_accumulator) meta->grad_accumulator = make_node<AccumulateGrad>(tensor);
  return {meta->grad_accumulator, 0};
}

void delete_node(Node* node) {
  // Destroying a node drops its edges and saved tensors, which may drop the last reference to
  // further nodes; those land back here and are queued instead of destroyed recursively.
  thread_local std::vector<Node*> pending;
  thread_local bool draining = false;
  pending.push_back(node);
  if (draining) return;
  draining = true;
  while (!pending.empty()) {
    Node* next = pending.back();
    pending.pop_back();
    delete next;
  }
  draining = false;
}

namespace {
// Whether nothing but `grad` itself can reach its memory, so that .grad may keep it and later
// accumulate into it in place: no other handle to it, and its storage held by it alone, or by it
// and the base it views when nothing else holds that base (the transposed gradient TBackward0
// hands a weight used as w.t()).
bool exclusively_owned(const Tensor& grad) {
  const TensorImpl& impl = *grad.impl();
  if (grad.impl_ptr().use_count() != 1) return false;
  if (!impl.is_view()) return impl.storage().use_count() == 1;
  return impl.view_base().use_count() == 1 && impl.storage().use_count() == 2;
}
}  // namespace

Tensor AccumulateGrad::variable() const {
  const std::shared_ptr<TensorImpl> variable = variable_.lock();
  return variable ? Tensor(variable) : Tensor();
}

AccumulateGrad::AccumulateGrad(const Tensor& variable) : variable_(variable.impl_ptr()) {
  number_as_sink();  // it has no edges to collect
  add_output_meta(variable);
}

void AccumulateGrad::run_leaf_hooks(Tensor& grad) const {
  const std::shared_ptr<TensorImpl> variable = variable_.lock();
  if (!variable) return;
  const auto& registered = autograd_meta(*variable)->hooks;
  if (registered.empty()) return;
  const auto hooks = registered;  // a copy: a hook may remove hooks while it runs
  for (const auto& [id, hook] : hooks) apply_hook(hook, grad, *this, 0);
}

namespace {
thread_local bool t_in_place_allowed = false;  // see AccumulateGrad::InPlaceScope
}  // namespace

AccumulateGrad::InPlaceScope::InPlaceScope(bool allowed) : previous_(t_in_place_allowed) {
  t_in_place_allowed = allowed;
}

AccumulateGrad::InPlaceScope::~InPlaceScope() { t_in_place_allowed = previous_; }

template <typename Write>
bool AccumulateGrad::accumulate(const std::shared_ptr<TensorImpl>& variable, Write&& write) {
  // Backward runs without the Python GIL, and two threads' graphs may share this leaf.
  std::unique_lock<std::mutex> lock(mutex_);
  AutogradMeta* meta = autograd_meta(*variable);
  if (!write(*meta)) return false;
  // A copy, taken under the lock: a hook may remove hooks while it runs. They run outside it, so
  // that a hook that waits (on other processes, say) blocks no other thread's accumulation.
  const auto post_hooks = meta->post_accumulate_grad_hooks;
  lock.unlock();
  if (!post_hooks.empty()) {
    const Tensor leaf(variable);
    for (const auto& [id, hook] : post_hooks) hook(leaf);
  }
  return true;
}

TensorList AccumulateGrad::apply(TensorList&& grad_outputs) {
  Tensor grad = std::move(grad_outputs[0]);
  const std::shared_ptr<TensorImpl> variable = variable_.lock();
  if (!grad.defined() || !variable) return {};
  run_leaf_hooks(grad);
  accumulate(variable, [&grad](AutogradMeta& meta) {
    if (!meta.grad.defined()) {
      // Keep the incoming gradient itself when nobody else holds it (the usual case), else a copy,
      // so that a later in-place accumulation cannot write into another tensor. Under create_graph
      // the gradient keeps its history, so that it can be differentiated again.
      const bool exclusive = exclusively_owned(grad) && grad.is_contiguous();
      // A view is copied too: .grad must not be tied to another tensor's base (nor refuse detach_()).
      meta.grad = GradMode::is_enabled() ? (grad.impl()->is_view() ? clone(grad) : grad)
                                         : (exclusive ? grad.detach() : clone(grad.detach()));
    } else if (GradMode::is_enabled()) {
      meta.grad = add(meta.grad, grad);
    } else {
      add_(meta.grad, grad);
    }
    return true;
  });
  return {};
}

bool AccumulateGrad::accumulate_in_place(const Edge& edge, const std::function<bool(const Tensor&)>& add_into) {
  auto* sink = dynamic_cast<AccumulateGrad*>(edge.node.get());
  // Two owners, the leaf and this edge: no other gradient is on its way to this sink, in this
  // graph or another, so what arrives here is the whole gradient the hooks expect.
  if (!sink || !t_in_place_allowed || GradMode::is_enabled() || edge.node.use_count() != 2) return false;
  const std::shared_ptr<TensorImpl> variable = sink->variable_.lock();
  if (!variable) return false;
  return sink->accumulate(variable, [&](AutogradMeta& meta) {
    const Tensor& grad = meta.grad;
    if (!meta.hooks.empty() || !grad.defined() || grad.requires_grad() || grad.dtype() != variable->dtype() ||
        grad.sizes() != variable->sizes() || !add_into(grad))
      return false;
    grad.impl()->bump_version();  // as add_ would
    return true;
  });
}

HookHandle::HookHandle(const Tensor& tensor, uint64_t id) : id_(id) {
  if (tensor.grad_fn()) node_ = tensor.grad_fn();
  else leaf_ = tensor.impl_ptr();
}

void HookHandle::remove() const {
  if (auto node = node_.lock()) node->remove_output_hook(id_);
  if (auto leaf = leaf_.lock()) {
    if (AutogradMeta* meta = autograd_meta(*leaf)) {
      std::erase_if(meta->hooks, [this](const auto& entry) { return entry.first == id_; });
      std::erase_if(meta->post_accumulate_grad_hooks, [this](const auto& entry) { return entry.first == id_; });
    }
  }
}

Node::SavedTensor::SavedTensor(const Tensor& tensor, bool is_output)
    : saved_version_(tensor.impl()->version()), is_output_(is_output), requires_grad_(tensor.requires_grad()) {
  if (is_output) {
    data_ = tensor.detach();
    output_nr_ = tensor.output_nr();
  } else {
    data_ = tensor;
  }
}

void Node::save(size_t slot, const Tensor& tensor, bool is_output) {
  if (!tensor.defined()) return;
  // Every op that records saves through here, custom Functions included. PyTorch's words:
  TG_CHECK(!tensor.impl()->is_inference(), name(), "Inference tensors cannot be saved for backward. Please do not use "
           "Tensors created in inference mode in computation tracked by autograd. To work around this, you can make "
           "a clone to get a normal tensor and use it in autograd, or use `tapegrad.no_grad()` instead of "
           "`tapegrad.inference_mode()`.");
  if (slot >= kInlineSlots && slot - kInlineSlots >= more_saved_.size()) more_saved_.resize(slot - kInlineSlots + 1);
  saved_slot(slot) = SavedTensor(tensor, is_output);
  saved_count_ = std::max(saved_count_, slot + 1);
}

TensorList Node::saved_for_inspection() const {
  TensorList tensors;
  for (size_t slot = 0; slot < saved_count_; ++slot)
    if (saved_slot(slot).data().defined()) tensors.push_back(saved_slot(slot).data());
  return tensors;
}

const std::string& Node::forward_stack() const {
  static const std::string none;
  return forward_stack_ ? *forward_stack_ : none;
}

void Node::remember_forward_stack() { forward_stack_ = std::make_unique<std::string>(AnomalyMode::capture_stack()); }

TensorList Node::operator()(TensorList&& grad_outputs) {
  std::optional<profiler::Range> range;
  if (profiler::is_enabled()) [[unlikely]]
    range.emplace(name());
  TensorList grad_inputs = apply(std::move(grad_outputs));
  if (AnomalyMode::is_enabled() && AnomalyMode::should_check_nan()) [[unlikely]] {
    NoGradGuard no_grad;
    for (size_t i = 0; i < grad_inputs.size(); ++i) {
      const Tensor& grad = grad_inputs[i];
      if (!grad.defined() || !is_floating(grad.dtype())) continue;
      const Tensor is_nan = compare(Comparison::Ne, grad, grad);
      if (kernels::backend("isnan", is_nan)->count_nonzero(is_nan) == 0) continue;
      const std::string& stack = forward_stack();
      fail<Error>("backward", "Function '", name(), "' returned nan values in its ", i, "th output.",  // PyTorch's words

                  stack.empty() ? std::string() : "\n\nTraceback of forward call that caused the error:\n" + stack);
    }
  }
  return grad_inputs;
}

Tensor Node::saved(size_t slot) { return slot < saved_count_ ? saved_slot(slot).unpack(*this) : Tensor(); }

void Node::release_saved() {
  for (size_t slot = 0; slot < saved_count_; ++slot) saved_slot(slot).release();
  if (releases_with_) releases_with_->release_saved();
}

Tensor Node::SavedTensor::unpack(Node& owner) const {
  TG_CHECK(!released_,
           owner.name(), "trying to backward through the graph a second time (or to read saved tensors after "
           "they were freed). Saved values are freed by backward() and autograd.grad(); pass retain_graph=True to "
           "the first call if you need to backward through the graph again.");
  if (!data_.defined()) return {};
  check_saved_version(data_, saved_version_, owner.name());
  if (!is_output_ || !requires_grad_) return data_;
  // Give the output back its history, so that formulas using it stay differentiable.
  Tensor output = data_.detach();
  AutogradMeta& meta = ensure_autograd_meta(*output.impl());
  meta.grad_fn = owner.shared_from_this();
  meta.output_nr = output_nr_;
  return output;
}

}  // namespace tg
