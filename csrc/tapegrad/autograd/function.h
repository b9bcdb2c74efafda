// Custom functions: an op whose forward ran outside autograd and whose backward is the user's own
// (Python's autograd.Function). The frontend converts its objects to tensors and calls back
// through a std::function; everything about the tape (which outputs alias or replace inputs, what
// is saved and how, how many gradients come back) is decided here.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tapegrad/autograd/node.h"

namespace tg {

struct RecordedFunction;

// A node running a custom backward. It has one edge per forward argument (invalid for non-tensor
// arguments) and one output slot per forward output (tensor or not), so its indices are the ones
// the user's code sees.
class FunctionNode final : public Node {
 public:
  // Gradients of the forward outputs in, one per output (undefined for a non-tensor output, or
  // where none arrived and materialize_grads is off), gradients of the forward arguments out
  // (undefined for None). Trailing undefined gradients beyond the argument count are allowed.
  using Backward = std::function<TensorList(const TensorList& grad_outputs)>;

  FunctionNode(Backward backward, std::string name, bool materialize_grads);

  TensorList apply(TensorList&& grad_outputs) override;
  std::string name() const override { return name_; }

  // The callback, where a frontend finds what it holds (Python's garbage collector visits ctx).
  const Backward& backward() const { return backward_; }
  // The tensors the forward saved, as save_for_backward was given them (undefined for None).
  TensorList saved_tensors();

 private:
  friend RecordedFunction record_function(Backward backward, std::string name, bool materialize_grads,
                                          const TensorList& inputs, const TensorList& outputs,
                                          const TensorList& to_save, const TensorList& non_differentiable,
                                          const TensorList& dirty);
  // One edge per forward argument, invalid for a non-tensor (an undefined tensor here).
  void set_inputs(const TensorList& inputs);
  // A forward output's gradient slot (`output` undefined for a non-tensor). A differentiable one
  // gets this node as its grad_fn.
  void add_forward_output(Tensor& output, bool differentiable);

  Backward backward_;
  std::string name_;
  bool materialize_grads_;
  std::vector<bool> tensor_inputs_, tensor_outputs_;
  size_t saved_count_ = 0;  // save_for_backward's arguments, one slot each (None saves nothing)
};

struct RecordedFunction {
  std::shared_ptr<FunctionNode> node;
  TensorList outputs;  // what the caller gets, in the place of what forward returned
};

// Wires a finished custom forward into the tape through a new FunctionNode (PyTorch's
// _wrap_outputs and _save_variables). `inputs` and `outputs` hold an undefined tensor for each
// argument or result that is not a tensor (and the recorded outputs are undefined there too): an
// input returned unmodified becomes an alias, a dirty (modified in place) input is returned itself
// with its history moved onto the node; then `to_save` is saved (undefined for None), outputs as
// outputs. `dirty` must be inputs that forward returned.
RecordedFunction record_function(FunctionNode::Backward backward, std::string name, bool materialize_grads,
                                 const TensorList& inputs, const TensorList& outputs, const TensorList& to_save,
                                 const TensorList& non_differentiable, const TensorList& dirty);

}  // namespace tg
