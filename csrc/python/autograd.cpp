// Autograd from Python: grad mode, backward/grad over several tensors, the grad_fn objects, and
// the node that runs a user's autograd.Function backward.
#include "bindings.h"
#include "tapegrad/autograd/engine.h"
#include "tapegrad/ops/creation.h"

namespace tg::python {

namespace {

TensorList to_tensor_list(py::handle sequence, const char* op, bool allow_none) {
  TensorList tensors;
  if (is_tensor(sequence)) return {as_tensor(sequence)};
  for (py::handle item : sequence) {
    if (item.is_none() && allow_none) tensors.emplace_back();
    else {
      TG_CHECK_TYPE(is_tensor(item), "[", op, "] expected a sequence of tensors, got an element of type ",
                    py::str(py::type::of(item).attr("__name__")).cast<std::string>());
      tensors.push_back(as_tensor(item));
    }
  }
  return tensors;
}

// A node whose backward is a Python autograd.Function's backward(ctx, *grads).
class PythonFunctionNode final : public Node {
 public:
  PythonFunctionNode(py::object backward, py::object ctx, std::string name, std::vector<bool> tensor_inputs)
      : backward_(std::move(backward)), ctx_(std::move(ctx)), name_(std::move(name)),
        tensor_inputs_(std::move(tensor_inputs)) {}
  ~PythonFunctionNode() override {
    py::gil_scoped_acquire gil;
    backward_ = py::object();
    ctx_ = py::object();
  }

  TensorList apply(TensorList&& grads) override {
    py::gil_scoped_acquire gil;
    py::tuple arguments(grads.size() + 1);
    arguments[0] = ctx_;
    for (size_t i = 0; i < grads.size(); ++i) {
      // Outputs that got no gradient are given zeros, as PyTorch does by default.
      const Tensor grad = grads[i].defined() ? grads[i] : zeros(output_meta()[i].sizes, output_meta()[i].dtype);
      arguments[i + 1] = py::cast(grad);
    }
    py::object result = backward_(*arguments);
    py::tuple results = py::isinstance<py::tuple>(result) ? result.cast<py::tuple>() : py::make_tuple(result);
    TG_CHECK(results.size() >= tensor_inputs_.size(), "[", name_, "] function backward returned ", results.size(),
             " gradients but forward took ", tensor_inputs_.size(), " arguments; return None for non-tensor arguments");
    TensorList input_grads;
    for (size_t i = 0; i < tensor_inputs_.size(); ++i) {
      if (!tensor_inputs_[i]) continue;
      py::handle grad = results[i];
      if (grad.is_none()) input_grads.emplace_back();
      else {
        TG_CHECK_TYPE(is_tensor(grad), "[", name_, "] backward must return tensors or None, got ",
                      py::str(py::type::of(grad).attr("__name__")).cast<std::string>(), " for input ", i);
        input_grads.push_back(as_tensor(grad));
      }
    }
    return input_grads;
  }
  std::string name() const override { return name_; }
  void release_saved() override {
    py::gil_scoped_acquire gil;
    if (py::hasattr(ctx_, "_release")) ctx_.attr("_release")();
  }

 private:
  py::object backward_;
  py::object ctx_;
  std::string name_;
  std::vector<bool> tensor_inputs_;
};

}  // namespace

void bind_autograd(py::module_& module, TensorClass& tensor) {
  py::class_<Node, std::shared_ptr<Node>>(module, "Node")
      .def("name", &Node::name)
      .def_property_readonly("next_functions", [](const Node& node) {
        py::list edges;
        for (const Edge& edge : node.next_edges())
          edges.append(py::make_tuple(edge.node ? py::cast(edge.node) : py::none(), edge.input_nr));
        return py::tuple(edges);
      })
      .def_property_readonly("_sequence_nr", &Node::sequence_nr)
      .def("__repr__", [](const Node& node) {
        return "<" + node.name() + " object at " + std::to_string(reinterpret_cast<uintptr_t>(&node)) + ">";
      });

  module.def("is_grad_enabled", &GradMode::is_enabled);
  module.def("_set_grad_enabled", &GradMode::set_enabled);

  module.def("_backward", [](py::object tensors, py::object grad_tensors, py::object retain_graph, bool create_graph) {
    const TensorList roots = to_tensor_list(tensors, "backward", false);
    const TensorList seeds = grad_tensors.is_none() ? TensorList() : to_tensor_list(grad_tensors, "backward", true);
    const bool keep = retain_graph.is_none() ? create_graph : retain_graph.cast<bool>();
    py::gil_scoped_release no_gil;  // nodes that call Python (hooks, Functions) retake it
    autograd::backward(roots, seeds, keep, create_graph);
  });

  module.def("_grad", [](py::object outputs, py::object inputs, py::object grad_outputs, py::object retain_graph,
                         bool create_graph, bool allow_unused) {
    const TensorList roots = to_tensor_list(outputs, "grad", false);
    const TensorList wrt = to_tensor_list(inputs, "grad", false);
    const TensorList seeds = grad_outputs.is_none() ? TensorList() : to_tensor_list(grad_outputs, "grad", true);
    const bool keep = retain_graph.is_none() ? create_graph : retain_graph.cast<bool>();
    TensorList grads;
    {
      py::gil_scoped_release no_gil;  // nodes that call Python (hooks, Functions) retake it
      grads = autograd::grad(roots, seeds, wrt, keep, create_graph, allow_unused);
    }
    py::tuple result(grads.size());
    for (size_t i = 0; i < grads.size(); ++i) result[i] = py::cast(grads[i]);
    return result;
  });

  // Wires a finished autograd.Function forward into the tape. `inputs` are the forward's
  // arguments (tensors or not); outputs that are input tensors returned as they are get an alias.
  module.def("_record_function", [](py::object backward, py::object ctx, std::string name, py::tuple inputs,
                                    py::tuple outputs) {
    std::vector<bool> tensor_inputs;
    TensorList input_tensors;
    for (py::handle input : inputs) {
      tensor_inputs.push_back(is_tensor(input));
      if (is_tensor(input)) input_tensors.push_back(as_tensor(input));
    }
    auto node = make_node<PythonFunctionNode>(std::move(backward), std::move(ctx), std::move(name), tensor_inputs);
    for (const Tensor& input : input_tensors) node->add_next_edge(input);
    py::tuple recorded(outputs.size());
    for (size_t i = 0; i < outputs.size(); ++i) {
      py::handle output = outputs[i];
      if (!is_tensor(output)) {
        recorded[i] = output;
        continue;
      }
      Tensor tensor = as_tensor(output);
      bool is_input = false;
      for (const Tensor& input : input_tensors) is_input = is_input || input.is_same(tensor);
      if (is_input || tensor.requires_grad()) tensor = tensor.detach();
      if (is_floating(tensor.dtype())) node->add_output(tensor);
      recorded[i] = py::cast(tensor);
    }
    return recorded;
  });
}

}  // namespace tg::python
