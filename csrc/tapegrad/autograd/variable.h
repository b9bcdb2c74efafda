// What autograd keeps on a tensor (PyTorch's AutogradMeta, from its variable.h): core's TensorImpl
// holds it in an opaque slot, made on first need. The definitions of Tensor's autograd methods
// (requires_grad, grad, grad_fn, backward, ...) are in variable.cpp.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "tapegrad/core/tensor.h"

namespace tg {

struct AutogradMeta final : AutogradMetaInterface {
  Tensor grad;
  std::shared_ptr<Node> grad_fn;           // set on non-leaves: the node that made this tensor
  std::shared_ptr<Node> grad_accumulator;  // leaves: the sink that writes .grad, made on first use
  std::vector<std::pair<uint64_t, TensorHook>> hooks;  // leaves only, by id; a non-leaf's live on its grad_fn
  uint32_t output_nr = 0;
  bool requires_grad = false;  // leaves only; a non-leaf requires grad through grad_fn
  bool retains_grad = false;
};

// The tensor's AutogradMeta, or nullptr while autograd has not touched it.
inline AutogradMeta* autograd_meta(const TensorImpl& impl) { return static_cast<AutogradMeta*>(impl.autograd_meta()); }
// The tensor's AutogradMeta, made if it has none.
AutogradMeta& ensure_autograd_meta(TensorImpl& impl);

}  // namespace tg
