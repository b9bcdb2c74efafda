// Runs the tape backwards. See engine.cpp for how.
#pragma once

#include <vector>

#include "tapegrad/autograd/node.h"

namespace tg::autograd {

// Gradients of `roots` (seeded with `grad_roots`; an undefined seed means ones for a one-element
// root) accumulated into the .grad of every leaf that requires grad.
void backward(const TensorList& roots, const TensorList& grad_roots, bool keep_graph, bool create_graph);

// Gradients of `roots` with respect to `inputs`, returned instead of accumulated; no .grad changes.
// An input the roots do not depend on gives an undefined Tensor when allow_unused, else an error.
TensorList grad(const TensorList& roots, const TensorList& grad_roots, const TensorList& inputs, bool keep_graph,
                bool create_graph, bool allow_unused);

}  // namespace tg::autograd
