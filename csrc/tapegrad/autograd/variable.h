// What autograd keeps on a tensor (PyTorch's AutogradMeta, from its variable.h): core's TensorImpl
// holds it in an opaque slot, made on first need. The definitions of Tensor's autograd methods
// (requires_grad, grad, grad_fn, backward, ...) are in variable.cpp.
#pragma once

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tg {

// Called with the leaf itself once its .grad has been accumulated (PyTorch's
// register_post_accumulate_grad_hook): data-parallel training starts reducing a gradient there.
using PostAccumulateGradHook = std::function<void(const Tensor&)>;

struct AutogradMeta final : AutogradMetaInterface {
  Tensor grad;
  std::shared_ptr<Node> grad_fn;           // set on non-leaves: the node that made this tensor
  std::shared_ptr<Node> grad_accumulator;  // leaves: the sink that writes .grad, made on first use
  std::vector<std::pair<uint64_t, TensorHook>> hooks;  // leaves only, by id; a non-leaf's live on its grad_fn
  std::vector<std::pair<uint64_t, PostAccumulateGradHook>> post_accumulate_grad_hooks;  // leaves only, by id
  uint32_t output_nr = 0;
  bool requires_grad = false;  // leaves only; a non-leaf requires grad through grad_fn
  bool retains_grad = false;
};

// Registers a post-accumulate-grad hook on a leaf that requires grad; the id is one HookHandle removes.
uint64_t register_post_accumulate_grad_hook(const Tensor& tensor, PostAccumulateGradHook hook);

// The tensor's AutogradMeta, or nullptr while autograd has not touched it.
inline AutogradMeta* autograd_meta(const TensorImpl& impl) { return static_cast<AutogradMeta*>(impl.autograd_meta()); }
// The tensor's AutogradMeta, made if it has none.
AutogradMeta& ensure_autograd_meta(TensorImpl& impl);

}  // namespace tg
