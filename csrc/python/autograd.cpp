// Autograd from Python: grad mode, backward/grad over several tensors, the grad_fn objects, and
// the node that runs a user's autograd.Function backward.
#include "arguments.h"
#include "bindings.h"
#include "tapegrad/autograd/engine.h"
#include "tapegrad/autograd/node.h"
#include "tapegrad/ops/copy.h"
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
                    type_name(item));
      tensors.push_back(as_tensor(item));
    }
  }
  return tensors;
}

// A node whose backward is a Python autograd.Function's backward(ctx, *grads). It has one edge per
// forward argument (invalid for non-tensors) and one output slot per forward output (tensor or
// not), so its indices are the ones the Python code sees.
class PythonFunctionNode final : public Node {
 public:
  PythonFunctionNode(py::object backward, py::object ctx, std::string name, bool materialize_grads)
      : backward_(std::move(backward)), ctx_(std::move(ctx)), name_(std::move(name)),
        materialize_grads_(materialize_grads) {}
  ~PythonFunctionNode() override {
    py::gil_scoped_acquire gil;
    backward_ = py::object();
    ctx_ = py::object();
  }

  void add_input(py::handle input) {
    tensor_inputs_.push_back(is_tensor(input));
    if (tensor_inputs_.back()) add_next_edge(as_tensor(input));
    else next_edges_.emplace_back();
  }
  // A forward output's gradient slot. A differentiable one gets this node as its grad_fn.
  void add_forward_output(Tensor* tensor, bool differentiable) {
    tensor_outputs_.push_back(tensor != nullptr);
    if (tensor && differentiable) add_output(*tensor);
    else if (tensor) add_output_meta(*tensor);
    else add_output_meta(OutputMeta{{}, DType::Float32});
  }
  void save(SavedTensor saved) { saved_.push_back(std::move(saved)); }
  py::tuple saved_tensors() {
    py::tuple tensors(saved_.size());
    for (size_t i = 0; i < saved_.size(); ++i) tensors[i] = py::cast(saved_[i].unpack(*this));
    return tensors;
  }
  PyObject* ctx() const { return ctx_.ptr(); }

  TensorList apply(TensorList&& grads) override {
    py::gil_scoped_acquire gil;
    py::tuple arguments(grads.size() + 1);
    arguments[0] = ctx_;
    for (size_t i = 0; i < grads.size(); ++i) {
      // A tensor output that got no gradient gets zeros unless ctx.set_materialize_grads(False).
      const OutputMeta& meta = output_meta()[i];
      if (grads[i].defined()) arguments[i + 1] = py::cast(grads[i]);
      else if (tensor_outputs_[i] && materialize_grads_) arguments[i + 1] = py::cast(zeros(meta.sizes, meta.dtype));
      else arguments[i + 1] = py::none();
    }
    py::object result = backward_(*arguments);
    py::tuple results = py::isinstance<py::tuple>(result) ? result.cast<py::tuple>() : py::make_tuple(result);
    // Extra trailing Nones are allowed, as in PyTorch.
    const size_t expected = next_edges_.size();
    size_t count = results.size();
    bool extra_are_none = true;
    for (size_t i = expected; i < count; ++i) extra_are_none = extra_are_none && results[i].is_none();
    if (count > expected && extra_are_none) count = expected;
    TG_CHECK(count == expected, "[backward] function ", name_, " returned an incorrect number of gradients (expected ",
             expected, ", got ", count, ")");
    TensorList input_grads(expected);
    for (size_t i = 0; i < expected; ++i) {
      py::handle grad = results[i];
      if (grad.is_none()) continue;
      TG_CHECK_TYPE(is_tensor(grad), "[backward] function ", name_, " must return Tensors or None, got ",
                    type_name(grad), " at index ", i);
      TG_CHECK(tensor_inputs_[i], "[backward] function ", name_, " returned a gradient different than None at index ",
               i, ", but the corresponding forward input was not a Tensor");
      if (needs_input_grad(i)) input_grads[i] = as_tensor(grad);
    }
    return input_grads;
  }
  std::string name() const override { return name_; }
  void release_saved() override {
    for (SavedTensor& saved : saved_) saved.reset();
  }

 private:
  py::object backward_;
  py::object ctx_;
  std::string name_;
  bool materialize_grads_;
  std::vector<bool> tensor_inputs_, tensor_outputs_;
  std::vector<SavedTensor> saved_;
};

// ctx.saved_tensors reads the node's saved tensors through this weak reference: the node owns
// ctx, so ctx must not own the node back.
struct FunctionSavedTensors {
  std::weak_ptr<PythonFunctionNode> node;
};

bool contains_tensor(py::handle sequence, const Tensor& tensor) {
  for (py::handle item : sequence)
    if (is_tensor(item) && as_tensor(item).is_same(tensor)) return true;
  return false;
}

// Wires a finished autograd.Function forward into the tape (PyTorch's _wrap_outputs and
// _save_variables). Returns the outputs to hand to the caller: an input returned unmodified
// becomes an alias, a dirty (modified in place) input is returned itself with its history moved
// onto this node; then the tensors given to save_for_backward are saved, outputs as outputs.
py::tuple record_function(py::object backward, py::object ctx, std::string name, py::tuple inputs, py::tuple outputs,
                          py::tuple to_save, py::tuple non_differentiable, py::tuple dirty, bool materialize_grads) {
  auto node = make_node<PythonFunctionNode>(std::move(backward), std::move(ctx), name, materialize_grads);
  for (py::handle input : inputs) node->add_input(input);
  for (py::handle marked : dirty) {
    TG_CHECK_TYPE(is_tensor(marked), "[mark_dirty] expects tensors, got ", type_name(marked));
    const Tensor tensor = as_tensor(marked);
    TG_CHECK(contains_tensor(inputs, tensor), "[", name, "] mark_dirty only accepts input tensors");
    TG_CHECK(contains_tensor(outputs, tensor), "[", name,
             "] some tensors marked as dirty during forward were not returned as outputs");
    check_inplace(tensor, "mark_dirty");
  }
  struct TensorOutput {
    Tensor returned, recorded;  // what forward returned, and what the caller gets
    bool differentiable;
  };
  std::vector<TensorOutput> tensor_outputs;
  py::tuple recorded(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    py::handle output = outputs[i];
    if (!is_tensor(output)) {
      node->add_forward_output(nullptr, false);
      recorded[i] = output;
      continue;
    }
    const Tensor returned = as_tensor(output);
    Tensor tensor = returned;
    const bool differentiable = is_floating(tensor.dtype()) && !contains_tensor(non_differentiable, tensor);
    if (contains_tensor(dirty, tensor)) tensor.impl()->bump_version();
    else if (contains_tensor(inputs, tensor) || tensor.requires_grad()) tensor = tensor.detach();
    node->add_forward_output(&tensor, differentiable);
    tensor_outputs.push_back({returned, tensor, differentiable});
    recorded[i] = py::cast(tensor);
  }
  for (py::handle item : to_save) {
    if (item.is_none()) {
      node->save(SavedTensor());
      continue;
    }
    TG_CHECK_TYPE(is_tensor(item), "[save_for_backward] can only save tensors or None, got ", type_name(item));
    Tensor tensor = as_tensor(item);
    // An input is saved as it is, unless forward modified it in place: like an output, it is then
    // saved without its grad_fn (this node), which would be a reference cycle.
    bool is_output = false;
    if (!contains_tensor(inputs, tensor) || contains_tensor(dirty, tensor)) {
      for (const TensorOutput& output : tensor_outputs) {
        if (!output.returned.is_same(tensor)) continue;
        tensor = output.recorded;
        is_output = output.differentiable;
      }
    }
    node->save(SavedTensor(tensor, is_output));
  }
  return py::make_tuple(recorded, FunctionSavedTensors{node});
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
  if (impl.use_count() != 1 || !impl->autograd()) return 0;
  const std::shared_ptr<Node>& grad_fn = impl->autograd()->grad_fn;
  if (grad_fn.use_count() != 1) return 0;
  if (auto* function = dynamic_cast<PythonFunctionNode*>(grad_fn.get())) Py_VISIT(function->ctx());
  return 0;
}

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

  py::class_<FunctionSavedTensors>(module, "_FunctionSavedTensors")
      .def("unpack", [](const FunctionSavedTensors& saved) {
        auto node = saved.node.lock();
        TG_CHECK(node, "[Function] saved tensors are no longer available: the graph that held them was freed");
        return node->saved_tensors();
      });
  module.def("_record_function", &record_function);

  auto* type = reinterpret_cast<PyTypeObject*>(tensor.ptr());
  g_tensor_base_traverse = type->tp_traverse;
  type->tp_traverse = tensor_traverse;

  py::class_<HookHandle>(module, "RemovableHandle")
      .def("remove", &HookHandle::remove)
      .def_property_readonly("id", &HookHandle::id)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](const HookHandle& handle, py::args) { handle.remove(); });
}

}  // namespace tg::python
