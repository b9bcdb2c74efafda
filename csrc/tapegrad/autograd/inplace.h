// The protocol every in-place op follows, and how views keep their history in step with their
// base's (see inplace.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tapegrad/core/tensor.h"

namespace tg {

// An in-place op on self calls check_inplace before writing anything. When it returns true (autograd
// records the op), the op builds its node before the write, with self's old value as input 0 and
// self as its one output, and passes it to rebase_history after the write and the version bump.

// Refuses a write into an inference tensor outside inference mode (PyTorch's rule: no version counter
// follows such a write). check_inplace starts with it; writes that skip check_inplace (the random
// fills, the optimizers' steps) call it themselves.
void check_not_inference(const Tensor& self, const char* op);

// Refuses writes that cannot be done or followed: into an inference tensor outside inference mode,
// into a tensor where several elements share one memory location (unless `idempotent`: a fill
// may), and, when recorded, into a leaf that requires grad, into a view of one, or through a view
// made in no_grad mode. Returns whether to record.
bool check_inplace(const Tensor& self, const char* op, bool other_requires_grad = false, bool idempotent = false);

// Makes `node` self's history. When self is a view, the history rewritten is its base's: a
// CopySlices node replaces the view's elements in the base's old history by node's result, and
// the view's own grad_fn is derived again from the base.
void rebase_history(Tensor& self, std::shared_ptr<Node> node);

// Gives `view` a new grad_fn from its base's current history: one AsStridedBackward0 node, from the
// view's place in the base's storage (Tensor::grad_fn calls this on a stale view, with
// `only_if_stale`: another thread may have derived it meanwhile). Nothing happens while neither
// the view nor its base requires grad. A view made in no_grad mode refuses, as PyTorch.
void derive_view_grad_fn(const Tensor& view, bool only_if_stale = false);

// Refuses a saved tensor that was written in place since it was saved (at `saved_version`), naming
// the node that saved it and both versions: its backward would read the new values.
void check_saved_version(const Tensor& saved, uint32_t saved_version, const std::string& node_name);

}  // namespace tg
