#include "tapegrad/autograd/function.h"

#include <algorithm>

#include "tapegrad/autograd/inplace.h"
#include "tapegrad/ops/creation.h"

namespace tg {

namespace {

bool contains_tensor(const TensorList& tensors, const Tensor& tensor) {
  return std::any_of(tensors.begin(), tensors.end(),
                     [&](const Tensor& item) { return item.defined() && item.is_same(tensor); });
}

}  // namespace

FunctionNode::FunctionNode(Backward backward, std::string name, bool materialize_grads)
    : backward_(std::move(backward)), name_(std::move(name)), materialize_grads_(materialize_grads) {}

void FunctionNode::set_inputs(const TensorList& inputs) {
  std::vector<Edge> edges;
  edges.reserve(inputs.size());
  for (const Tensor& input : inputs) {
    tensor_inputs_.push_back(input.defined());
    edges.push_back(gradient_edge(input));
  }
  set_next_edges(std::move(edges));
}

void FunctionNode::add_forward_output(Tensor& output, bool differentiable) {
  tensor_outputs_.push_back(output.defined());
  if (output.defined() && differentiable) add_output(output);
  else if (output.defined()) add_output_meta(output);
  else add_output_meta(OutputMeta{{}, DType::Float32});
}

TensorList FunctionNode::saved_tensors() {
  TensorList tensors;
  tensors.reserve(saved_count_);
  for (size_t slot = 0; slot < saved_count_; ++slot) tensors.push_back(saved(slot));
  return tensors;
}

TensorList FunctionNode::apply(TensorList&& grads) {
  // A tensor output that got no gradient gets zeros unless ctx.set_materialize_grads(False).
  for (size_t i = 0; i < grads.size(); ++i) {
    const OutputMeta& meta = output_meta()[i];
    if (!grads[i].defined() && tensor_outputs_[i] && materialize_grads_) grads[i] = zeros(meta.sizes, meta.dtype);
  }
  TensorList results = backward_(grads);
  // Extra trailing Nones are allowed, as in PyTorch.
  const size_t expected = next_edges().size();
  const bool extra_are_none = std::all_of(results.begin() + static_cast<std::ptrdiff_t>(std::min(expected, results.size())),
                                          results.end(), [](const Tensor& grad) { return !grad.defined(); });
  if (results.size() > expected && extra_are_none) results.resize(expected);
  TG_CHECK(results.size() == expected, "backward", "function ", name_,
           " returned an incorrect number of gradients (expected ", expected, ", got ", results.size(), ")");
  for (size_t i = 0; i < expected; ++i) {
    if (!results[i].defined()) continue;
    TG_CHECK(tensor_inputs_[i], "backward", "function ", name_, " returned a gradient different than None at index ",
             i, ", but the corresponding forward input was not a Tensor");
    if (!needs_input_grad(i)) results[i] = Tensor();
  }
  return results;
}

RecordedFunction record_function(FunctionNode::Backward backward, std::string name, bool materialize_grads,
                                 const TensorList& inputs, const TensorList& outputs, const TensorList& to_save,
                                 const TensorList& non_differentiable, const TensorList& dirty) {
  auto node = make_node<FunctionNode>(std::move(backward), name, materialize_grads);
  node->set_inputs(inputs);
  for (const Tensor& tensor : dirty) {
    TG_CHECK(contains_tensor(inputs, tensor), name, "mark_dirty only accepts input tensors");
    TG_CHECK(contains_tensor(outputs, tensor), name, "some tensors marked as dirty during forward were not returned as outputs");
    check_inplace(tensor, "mark_dirty");
  }
  TensorList recorded(outputs.size());
  std::vector<bool> differentiable(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    Tensor tensor = outputs[i];
    differentiable[i] = tensor.defined() && is_floating(tensor.dtype()) && !contains_tensor(non_differentiable, tensor);
    if (contains_tensor(dirty, tensor)) tensor.impl()->bump_version();
    else if (tensor.defined() && (contains_tensor(inputs, tensor) || tensor.requires_grad())) tensor = tensor.detach();
    node->add_forward_output(tensor, differentiable[i]);
    recorded[i] = tensor;
  }
  for (const Tensor& item : to_save) {
    const size_t slot = node->saved_count_++;
    if (!item.defined()) continue;
    // An input is saved as it is, unless forward modified it in place: like an output, it is then
    // saved without its grad_fn (this node), which would be a reference cycle.
    Tensor tensor = item;
    bool is_output = false;
    if (!contains_tensor(inputs, item) || contains_tensor(dirty, item)) {
      for (size_t i = 0; i < outputs.size(); ++i) {
        if (!outputs[i].defined() || !outputs[i].is_same(item)) continue;
        tensor = recorded[i];
        is_output = differentiable[i];
      }
    }
    node->save(slot, tensor, is_output);
  }
  return {std::move(node), std::move(recorded)};
}

}  // namespace tg
