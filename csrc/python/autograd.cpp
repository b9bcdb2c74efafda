// Autograd from Python: grad mode, backward/grad over several tensors, the grad_fn objects, and
// the Python side of autograd.Function (its backward as a FunctionNode's callback, see
// autograd/function.h).
#include <sstream>

#include "arguments.h"
#include "bindings.h"
#include "tapegrad/autograd/engine.h"
#include "tapegrad/autograd/function.h"
#include "tapegrad/autograd/node.h"
#include "tapegrad/core/inference_mode.h"

namespace tg::python {

namespace {

// A tensor, or a sequence of them, as backward() and grad() take their tensors.
TensorList tensor_or_tensors(py::handle sequence, const char* op, bool allow_none) {
  if (is_tensor(sequence)) return {as_tensor(sequence)};
  return to_tensors(sequence, op, allow_none);
}

// A Python autograd.Function's backward(ctx, *grads), as the FunctionNode's callback. What it holds
// goes under the GIL, wherever the node happens to be freed.
struct PythonBackward {
  struct Callable {
    py::object backward, ctx;
    std::string name;
  };
  std::shared_ptr<Callable> callable;

  PythonBackward(py::object backward, py::object ctx, std::string name)
      : callable(new Callable{std::move(backward), std::move(ctx), std::move(name)}, [](Callable* held) {
          py::gil_scoped_acquire gil;
          delete held;
        }) {}

  TensorList operator()(const TensorList& grads) const {
    py::gil_scoped_acquire gil;
    py::tuple arguments(grads.size() + 1);
    arguments[0] = callable->ctx;
    for (size_t i = 0; i < grads.size(); ++i) arguments[i + 1] = py::cast(grads[i]);
    py::object result = callable->backward(*arguments);
    py::tuple results = py::isinstance<py::tuple>(result) ? result.cast<py::tuple>() : py::make_tuple(result);
    TensorList input_grads(results.size());
    for (size_t i = 0; i < results.size(); ++i) {
      py::handle grad = results[i];
      if (grad.is_none()) continue;
      TG_CHECK_TYPE(is_tensor(grad), "backward", "function ", callable->name, " must return Tensors or None, got ",
                    type_name(grad), " at index ", i);
      input_grads[i] = as_tensor(grad);
    }
    return input_grads;
  }
};

// ctx.saved_tensors reads the node's saved tensors through this weak reference: the node owns
// ctx, so ctx must not own the node back.
struct FunctionSavedTensors {
  std::weak_ptr<FunctionNode> node;
};

// Each item a tensor, or undefined where it is not one.
TensorList tensors_or_undefined(py::handle sequence) {
  TensorList tensors;
  for (py::handle item : sequence) tensors.push_back(is_tensor(item) ? as_tensor(item) : Tensor());
  return tensors;
}

// Wires a finished autograd.Function forward into the tape (see tg::record_function): outputs
// that are not tensors are handed back as they were returned.
py::tuple record_function(py::object backward, py::object ctx, std::string name, py::tuple inputs, py::tuple outputs,
                          py::tuple to_save, py::tuple non_differentiable, py::tuple dirty, bool materialize_grads) {
  const TensorList dirty_tensors = to_tensors(dirty, "mark_dirty");
  const TensorList saved = to_tensors(to_save, "save_for_backward", true);
  RecordedFunction recorded_function =
      tg::record_function(PythonBackward(std::move(backward), std::move(ctx), name), name, materialize_grads,
                          tensors_or_undefined(inputs), tensors_or_undefined(outputs), saved,
                          tensors_or_undefined(non_differentiable), dirty_tensors);
  py::tuple recorded(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i)
    recorded[i] = is_tensor(outputs[i]) ? py::cast(recorded_function.outputs[i]) : py::object(outputs[i]);
  return py::make_tuple(recorded, FunctionSavedTensors{recorded_function.node});
}

// Python's garbage collector cannot see references held in C++, so ctx.result = output (output's
// grad_fn owns ctx, ctx owns output) would be an uncollectable cycle. As in PyTorch, a tensor that
// is the only owner of its data and of a Function node as grad_fn reports that node's ctx as its own.
traverseproc g_tensor_base_traverse = nullptr;

int tensor_traverse(PyObject* self, visitproc visit, void* arg) {
  if (int result = g_tensor_base_traverse(self, visit, arg)) return result;
  auto holder = reinterpret_cast<py::detail::instance*>(self)->get_value_and_holder();
  if (!holder.holder_constructed()) return 0;
  const auto& impl = holder.holder<std::shared_ptr<TensorImpl>>();
  if (impl.use_count() != 1 || !autograd_meta(*impl)) return 0;
  const std::shared_ptr<Node>& grad_fn = autograd_meta(*impl)->grad_fn;
  if (grad_fn.use_count() != 1) return 0;
  if (auto* function = dynamic_cast<FunctionNode*>(grad_fn.get())) {
    if (const auto* backward = function->backward().target<PythonBackward>()) Py_VISIT(backward->callable->ctx.ptr());
  }
  return 0;
}

}  // namespace

void bind_autograd(py::module_& module, TensorClass& tensor) {
  py::class_<Node, std::shared_ptr<Node>>(module, "Node", docstring("Node"))
      .def("name", &Node::name, docstring("name"))
      .def_property_readonly("next_functions", [](const Node& node) {
        py::list edges;
        for (const Edge& edge : node.next_edges())
          edges.append(py::make_tuple(edge.node ? py::cast(edge.node) : py::none(), edge.input_nr));
        return py::tuple(edges);
      }, docstring("next_functions"))
      .def_property_readonly("_sequence_nr", &Node::sequence_nr)
      // A leaf's AccumulateGrad: the leaf (PyTorch's AccumulateGrad.variable); no other node has one.
      .def_property_readonly("variable", [](const Node& node) {
        const auto* sink = dynamic_cast<const AccumulateGrad*>(&node);
        if (sink == nullptr) throw py::attribute_error("'" + node.name() + "' object has no attribute 'variable'");
        return sink->variable();
      }, docstring("variable"))
      // The shapes of what the forward op produced, and what the node holds for backward (tapegrad.viz).
      .def_property_readonly("_output_shapes", [](const Node& node) {
        py::list shapes;
        for (const OutputMeta& meta : node.output_meta()) shapes.append(make_size(meta.sizes));
        return py::tuple(shapes);
      })
      .def_property_readonly("_saved_tensors", [](const Node& node) { return node.saved_for_inspection(); })
      .def("__repr__", [](const Node& node) {
        std::ostringstream text;
        text << "<" << node.name() << " object at 0x" << std::hex << reinterpret_cast<uintptr_t>(&node) << ">";
        return text.str();
      }, docstring("__repr__"));

  // Anomaly mode: nodes remember the Python stack that made them.
  module.def("_set_anomaly_enabled", &AnomalyMode::set_enabled, py::arg("enabled"), py::arg("check_nan") = true);
  module.def("_is_anomaly_enabled", &AnomalyMode::is_enabled);
  module.def("_is_anomaly_check_nan_enabled", &AnomalyMode::should_check_nan);
  AnomalyMode::set_stack_provider([]() -> std::string {
    if (!Py_IsInitialized()) return {};
    py::gil_scoped_acquire gil;  // ops may record without the GIL
    const py::list lines = py::module_::import("traceback").attr("format_stack")();
    std::string stack;
    for (py::handle line : lines) stack += line.cast<std::string>();
    return stack;
  });

  module.def("is_grad_enabled", &GradMode::is_enabled, docstring("is_grad_enabled"));
  module.def("_set_grad_enabled", &GradMode::set_enabled);
  module.def("is_inference_mode_enabled", &InferenceMode::is_enabled, docstring("is_inference_mode_enabled"));
  module.def("_set_inference_mode_enabled", &InferenceMode::set_enabled);

  module.def("_backward", [](py::object tensors, py::object grad_tensors, py::object retain_graph, bool create_graph) {
    const TensorList roots = tensor_or_tensors(tensors, "backward", false);
    const TensorList seeds = grad_tensors.is_none() ? TensorList() : tensor_or_tensors(grad_tensors, "backward", true);
    const bool keep = retain_graph.is_none() ? create_graph : retain_graph.cast<bool>();
    py::gil_scoped_release no_gil;  // nodes that call Python (hooks, Functions) retake it
    autograd::backward(roots, seeds, keep, create_graph);
  });

  module.def("_grad", [](py::object outputs, py::object inputs, py::object grad_outputs, py::object retain_graph,
                         bool create_graph, bool allow_unused) {
    const TensorList roots = tensor_or_tensors(outputs, "grad", false);
    const TensorList wrt = tensor_or_tensors(inputs, "grad", false);
    const TensorList seeds = grad_outputs.is_none() ? TensorList() : tensor_or_tensors(grad_outputs, "grad", true);
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

  py::class_<FunctionSavedTensors>(module, "_FunctionSavedTensors")
      .def("unpack", [](const FunctionSavedTensors& saved) {
        auto node = saved.node.lock();
        TG_CHECK(node, "Function", "saved tensors are no longer available: the graph that held them was freed");
        const TensorList tensors = node->saved_tensors();
        py::tuple result(tensors.size());
        for (size_t i = 0; i < tensors.size(); ++i) result[i] = py::cast(tensors[i]);
        return result;
      }, docstring("unpack"));
  module.def("_record_function", &record_function);

  auto* type = reinterpret_cast<PyTypeObject*>(tensor.ptr());
  g_tensor_base_traverse = type->tp_traverse;
  type->tp_traverse = tensor_traverse;
}

}  // namespace tg::python
