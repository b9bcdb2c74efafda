// Indexing, assignment by index, and cat/stack/split. Keys are parsed here into TensorIndex
// entries: the common x[i], x[a:b], x[:, 0] cost one pass over the key tuple, no Python calls.
#include <climits>

#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/index.h"
#include "tapegrad/ops/view.h"

namespace tg::python {

namespace {

// An int-like object as int64; out-of-range values saturate (slice bounds clamp anyway, and an
// integer index that large is out of bounds either way).
int64_t to_index_integer(py::handle object) {
  PyObject* number = PyNumber_Index(object.ptr());
  if (!number) {
    PyErr_Clear();
    fail<TypeError>("index", "slice indices must be integers or None, got ", type_name(object));
  }
  int overflow = 0;
  const long long value = PyLong_AsLongLongAndOverflow(number, &overflow);
  Py_DECREF(number);
  if (overflow != 0) return overflow > 0 ? INT64_MAX : INT64_MIN;
  return value;
}

TensorIndex parse_slice(py::handle object) {
  auto* slice = reinterpret_cast<PySliceObject*>(object.ptr());
  const int64_t step = slice->step == Py_None ? 1 : to_index_integer(slice->step);
  TG_CHECK_VALUE(step > 0, "index", "slice step must be positive, got ", step);
  const int64_t start = slice->start == Py_None ? 0 : to_index_integer(slice->start);
  const int64_t stop = slice->stop == Py_None ? INT64_MAX : to_index_integer(slice->stop);
  return TensorIndex::slice(start, stop, step);
}

// Lists, tuples inside a key, and NumPy arrays become index tensors (int64, or bool masks).
Tensor sequence_to_tensor(py::handle object) {
  if (py::len(object) == 0) return empty({0}, DType::Int64);
  return as_tensor(py::module_::import("tapegrad").attr("tensor")(object));
}

TensorIndex parse_entry(py::handle item) {
  PyObject* raw = item.ptr();
  if (PyLong_CheckExact(raw)) return TensorIndex::integer(to_index_integer(item));
  if (PySlice_Check(raw)) return parse_slice(item);
  if (raw == Py_None) return TensorIndex::none();
  if (raw == Py_Ellipsis) return TensorIndex::ellipsis();
  if (PyBool_Check(raw)) return TensorIndex::boolean(raw == Py_True);
  if (is_tensor(item)) {
    Tensor tensor = as_tensor(item);
    // As PyTorch: a 0-dim integer tensor selects like a Python int (a view, not a copy).
    if (tensor.dim() == 0 && (tensor.dtype() == DType::Int64 || tensor.dtype() == DType::Int32))
      return TensorIndex::integer(tensor.dtype() == DType::Int64 ? *tensor.data_ptr<int64_t>() : *tensor.data_ptr<int32_t>());
    return TensorIndex::of(std::move(tensor));
  }
  if (PyLong_Check(raw)) return TensorIndex::integer(to_index_integer(item));
  if (is_scalar(item)) {
    const Scalar value = to_scalar(item, "index");
    if (value.kind() == Scalar::Kind::Int) return TensorIndex::integer(value.to<int64_t>());
    if (value.kind() == Scalar::Kind::Bool) return TensorIndex::boolean(value.to<bool>());
  } else if (PyList_Check(raw) || PyTuple_Check(raw) || py::hasattr(item, "__array_interface__")) {
    return TensorIndex::of(sequence_to_tensor(item));
  } else if (PyRange_Check(raw) || (PySequence_Check(raw) && !PyUnicode_Check(raw) && !PyBytes_Check(raw))) {
    // As PyTorch: any other sequence (x[range(n), target]) indexes as the list of its items.
    return TensorIndex::of(sequence_to_tensor(py::list(py::reinterpret_borrow<py::object>(item))));
  } else if (py::hasattr(item, "__index__")) {
    return TensorIndex::integer(to_index_integer(item));
  }
  fail<IndexError>("index", "only integers, slices (`:`), ellipsis (`...`), None, and integer or boolean "
                   "tensors, lists or arrays are valid indices (got ", type_name(item), ")");
}

std::vector<TensorIndex> parse_key(py::handle key) {
  std::vector<TensorIndex> entries;
  if (PyTuple_Check(key.ptr())) {
    const Py_ssize_t count = PyTuple_GET_SIZE(key.ptr());
    entries.reserve(static_cast<size_t>(count));
    for (Py_ssize_t i = 0; i < count; ++i) entries.push_back(parse_entry(PyTuple_GET_ITEM(key.ptr(), i)));
  } else {
    entries.push_back(parse_entry(key));
  }
  return entries;
}

// A value to store: a tensor, or data (lists, arrays) made into one.
Tensor to_value_tensor(py::handle value) {
  if (is_tensor(value)) return as_tensor(value);
  return as_tensor(py::module_::import("tapegrad").attr("tensor")(value));
}

std::vector<Tensor> to_tensor_list(py::handle sequence, const char* op) {
  TG_CHECK_TYPE(PyTuple_Check(sequence.ptr()) || PyList_Check(sequence.ptr()), op, "expected a tuple or list of tensors, got ", type_name(sequence));
  return to_tensors(sequence, op);
}

// index_put_'s indices: tensors, None (the whole dim), or data made into index tensors.
std::vector<Tensor> to_index_list(py::handle sequence, const char* op) {
  TG_CHECK_TYPE(PyTuple_Check(sequence.ptr()) || PyList_Check(sequence.ptr()), op, "expected a tuple or list of index tensors, got ", type_name(sequence));
  std::vector<Tensor> indices;
  for (py::handle item : sequence) {
    if (item.is_none()) indices.emplace_back();
    else indices.push_back(is_tensor(item) ? as_tensor(item) : sequence_to_tensor(item));
  }
  return indices;
}

// masked_fill's value: a number or a one-element tensor.
Scalar to_fill_value(py::handle value, const char* op) {
  if (is_tensor(value)) {
    const Tensor tensor = as_tensor(value);
    TG_CHECK(tensor.dim() == 0, op, "only supports a 0-dimensional value tensor, got shape ", tensor.sizes());
    return to_scalar(value.attr("item")(), op);
  }
  return to_scalar(value, op);
}

// The elements an indexing op moves, for releasing the GIL: none for a key that gives a view; the
// indexed tensor's and the index tensors' when a tensor index gathers or scatters.
int64_t key_work(const Tensor& self, const std::vector<TensorIndex>& key) {
  int64_t work = 0;
  for (const TensorIndex& entry : key)
    if (entry.kind == TensorIndex::Kind::Tensor) work += entry.tensor.numel();
  return work > 0 ? work + self.numel() : 0;
}

py::list to_python_list(const std::vector<Tensor>& tensors) {
  py::list list;
  for (const Tensor& tensor : tensors) list.append(py::cast(tensor));
  return list;
}

}  // namespace

void bind_index(py::module_& module, TensorClass& tensor) {
  using KeyFn = Tensor (*)(const Tensor&, const std::vector<TensorIndex>&);
  tensor.def("__getitem__", [](const Tensor& self, py::handle key) {
    const std::vector<TensorIndex> entries = parse_key(key);
    return run_releasing_gil(key_work(self, entries), [&] { return static_cast<KeyFn>(index)(self, entries); });
  }, docstring("__getitem__"));
  // An assignment writes the selected elements, whatever the key: x[:] = y copies all of y.
  tensor.def("__setitem__", [](Tensor& self, py::handle key, py::handle value) {
    const std::vector<TensorIndex> entries = parse_key(key);
    const int64_t work = key_work(self, entries);
    if (is_scalar(value)) {
      const Scalar number = to_scalar(value, "__setitem__");
      run_releasing_gil(std::max(work, self.numel()), [&] { index_assign_(self, entries, number); });
    } else {
      const Tensor values = to_value_tensor(value);
      run_releasing_gil(work + values.numel(), [&] { index_assign_(self, entries, values); });
    }
  }, docstring("__setitem__"));

  auto index_put_method = [](Tensor& self, py::handle indices, py::handle values, bool accumulate) -> Tensor& {
    const Tensor value_tensor = is_scalar(values) ? scalar_tensor(to_scalar(values, "index_put_"), self.dtype())
                                                  : to_value_tensor(values);
    return call_releasing_gil(index_put_, self, to_index_list(indices, "index_put_"), value_tensor, accumulate);
  };
  tensor.def("index_put_", index_put_method, py::arg("indices"), py::arg("values"), py::arg("accumulate") = false, docstring("index_put_"));
  auto index_put_function = [](const Tensor& self, py::handle indices, py::handle values, bool accumulate) {
    const Tensor value_tensor = is_scalar(values) ? scalar_tensor(to_scalar(values, "index_put"), self.dtype())
                                                  : to_value_tensor(values);
    return call_releasing_gil(index_put, self, to_index_list(indices, "index_put"), value_tensor, accumulate);
  };
  tensor.def("index_put", index_put_function, py::arg("indices"), py::arg("values"), py::arg("accumulate") = false, docstring("index_put"));
  module.def("index_put", checked("index_put", {"input"}, index_put_function), py::arg("input"), py::arg("indices"), py::arg("values"),
             py::arg("accumulate") = false, docstring("index_put"));

  for (auto [name, function] : {std::pair{"index_select", releasing<index_select>}, std::pair{"gather", releasing<gather>}}) {
    tensor.def(name, checked(name, {"input", "index"}, function), py::arg("dim"), py::arg("index"), docstring(name));
    module.def(name, checked(name, {"input", "index"}, function), py::arg("input"), py::arg("dim"), py::arg("index"), docstring(name));
  }

  // scatter(dim, index, src) or scatter(dim, index, value); reduce="add" sums as scatter_add does
  // (PyTorch's deprecated form, without a gradient there either).
  auto scatter_function = [](const char* op, bool in_place) {
    return [op, in_place](Tensor& self, Dim dim, TensorArgument index, py::handle src, py::handle value,
                          py::handle reduce) -> Tensor {
      const Tensor positions = to_tensor(index, op, "index");
      const int64_t axis = to_dim(dim, op);
      TG_CHECK_TYPE(src.is_none() != value.is_none(), op, "takes one of src= and value=");
      const py::handle given = src.is_none() ? value : src;
      if (!reduce.is_none()) {
        const std::string mode = reduce.cast<std::string>();
        TG_CHECK_VALUE(mode == "add", op, "reduce=\"", mode, "\" is not supported (only \"add\")");
        TG_CHECK(!self.requires_grad() && !(is_tensor(given) && as_tensor(given).requires_grad()), op,
                 "the derivative for scatter with reduce is not implemented");
        const Tensor source = is_tensor(given) ? as_tensor(given) : full(positions.sizes(), to_scalar(given, op), self.dtype());
        return in_place ? call_releasing_gil(scatter_add_, self, axis, positions, source)
                        : call_releasing_gil(scatter_add, self, axis, positions, source);
      }
      if (is_tensor(given)) {
        using SrcFn = Tensor (*)(const Tensor&, int64_t, const Tensor&, const Tensor&);
        using SrcInPlaceFn = Tensor& (*)(Tensor&, int64_t, const Tensor&, const Tensor&);
        return in_place ? call_releasing_gil(static_cast<SrcInPlaceFn>(scatter_), self, axis, positions, as_tensor(given))
                        : call_releasing_gil(static_cast<SrcFn>(scatter), self, axis, positions, as_tensor(given));
      }
      using ValueFn = Tensor (*)(const Tensor&, int64_t, const Tensor&, Scalar);
      using ValueInPlaceFn = Tensor& (*)(Tensor&, int64_t, const Tensor&, Scalar);
      const Scalar number = to_scalar(given, op);
      return in_place ? call_releasing_gil(static_cast<ValueInPlaceFn>(scatter_), self, axis, positions, number)
                      : call_releasing_gil(static_cast<ValueFn>(scatter), self, axis, positions, number);
    };
  };
  tensor.def("scatter", scatter_function("scatter", false), py::arg("dim"), py::arg("index"), py::arg("src") = py::none(),
             py::kw_only(), py::arg("value") = py::none(), py::arg("reduce") = py::none(), docstring("scatter"));
  tensor.def("scatter_", scatter_function("scatter_", true), py::arg("dim"), py::arg("index"), py::arg("src") = py::none(),
             py::kw_only(), py::arg("value") = py::none(), py::arg("reduce") = py::none(), docstring("scatter_"));
  module.def("scatter", checked("scatter", {"input"}, [=](const Tensor& self, Dim dim, TensorArgument index, py::handle src,
                                                         py::handle value, py::handle reduce) {
    Tensor input = self;
    return scatter_function("scatter", false)(input, dim, index, src, value, reduce);
  }), py::arg("input"), py::arg("dim"), py::arg("index"), py::arg("src") = py::none(), py::kw_only(),
     py::arg("value") = py::none(), py::arg("reduce") = py::none(), docstring("scatter"));
  tensor.def("scatter_add", checked("scatter_add", {"self", "index", "src"}, releasing<scatter_add>), py::arg("dim"),
             py::arg("index"), py::arg("src"), docstring("scatter_add"));
  module.def("scatter_add", checked("scatter_add", {"input", "index", "src"}, releasing<scatter_add>), py::arg("input"),
             py::arg("dim"), py::arg("index"), py::arg("src"), docstring("scatter_add"));
  tensor.def("scatter_add_", [](Tensor& self, int64_t dim, TensorArgument index, TensorArgument src) -> Tensor& {
    return call_releasing_gil(scatter_add_, self, dim, to_tensor(index, "scatter_add_", "index"),
                              to_tensor(src, "scatter_add_", "src"));
  }, py::arg("dim"), py::arg("index"), py::arg("src"), docstring("scatter_add_"));
  auto index_add_function = [](const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source, OptionalNumber alpha) {
    return call_releasing_gil(index_add, self, dim, index, source, to_scalar(alpha, "index_add"));
  };
  tensor.def("index_add", checked("index_add", {"self", "index", "source"}, index_add_function), py::arg("dim"),
             py::arg("index"), py::arg("source"), py::kw_only(), py::arg("alpha") = 1, docstring("index_add"));
  module.def("index_add", checked("index_add", {"input", "index", "source"}, index_add_function), py::arg("input"),
             py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(), py::arg("alpha") = 1, docstring("index_add"));
  tensor.def("index_add_", [](Tensor& self, int64_t dim, TensorArgument index, TensorArgument source, OptionalNumber alpha) -> Tensor& {
    return call_releasing_gil(index_add_, self, dim, to_tensor(index, "index_add_", "index"),
                              to_tensor(source, "index_add_", "source"), to_scalar(alpha, "index_add_"));
  }, py::arg("dim"), py::arg("index"), py::arg("source"), py::kw_only(), py::arg("alpha") = 1, docstring("index_add_"));
  tensor.def("masked_select", checked("masked_select", {"self", "mask"}, releasing<masked_select>), py::arg("mask"),
             docstring("masked_select"));
  module.def("masked_select", checked("masked_select", {"input", "mask"}, releasing<masked_select>), py::arg("input"),
             py::arg("mask"), docstring("masked_select"));
  auto take_along_dim_function = [](const Tensor& self, const Tensor& indices, Dim dim) {
    const std::optional<int64_t> axis = dim.is_none() ? std::nullopt : std::optional<int64_t>(to_dim(dim, "take_along_dim"));
    return call_releasing_gil(take_along_dim, self, indices, axis);
  };
  tensor.def("take_along_dim", checked("take_along_dim", {"self", "indices"}, take_along_dim_function),
             py::arg("indices"), py::arg("dim") = py::none(), docstring("take_along_dim"));
  module.def("take_along_dim", checked("take_along_dim", {"input", "indices"}, take_along_dim_function),
             py::arg("input"), py::arg("indices"), py::arg("dim") = py::none(), docstring("take_along_dim"));

  auto masked_fill_function = [](const Tensor& self, const Tensor& mask, py::handle value) {
    return call_releasing_gil(masked_fill, self, mask, to_fill_value(value, "masked_fill"));
  };
  tensor.def("masked_fill", checked("masked_fill", {"input", "mask"}, masked_fill_function), py::arg("mask"),
             py::arg("value"), docstring("masked_fill"));
  module.def("masked_fill", checked("masked_fill", {"input", "mask"}, masked_fill_function), py::arg("input"),
             py::arg("mask"), py::arg("value"), docstring("masked_fill"));
  tensor.def("masked_fill_", [](Tensor& self, py::handle mask, py::handle value) -> Tensor& {
    return call_releasing_gil(masked_fill_, self, to_tensor(mask, "masked_fill_", "mask"),
                              to_fill_value(value, "masked_fill_"));
  }, py::arg("mask"), py::arg("value"), docstring("masked_fill_"));

  auto nonzero_function = [](const Tensor& self, bool as_tuple) -> py::object {
    const Tensor coordinates = call_releasing_gil(nonzero, self);
    if (!as_tuple) return py::cast(coordinates);
    py::tuple columns(coordinates.sizes()[1]);
    for (int64_t d = 0; d < coordinates.sizes()[1]; ++d) columns[d] = py::cast(tg::select(coordinates, 1, d));
    return std::move(columns);
  };
  tensor.def("nonzero", nonzero_function, py::kw_only(), py::arg("as_tuple") = false, docstring("nonzero"));
  module.def("nonzero", checked("nonzero", {"input"}, nonzero_function), py::arg("input"), py::kw_only(), py::arg("as_tuple") = false, docstring("nonzero"));

  for (const char* name : {"cat", "concat", "concatenate"}) {
    module.def(name, [](py::handle tensors, int64_t dim) {
      return call_releasing_gil(cat, to_tensor_list(tensors, "cat"), dim);
    }, py::arg("tensors"), py::arg("dim") = 0, docstring(name));
  }
  module.def("stack", [](py::handle tensors, int64_t dim) {
    return call_releasing_gil(stack, to_tensor_list(tensors, "stack"), dim);
  }, py::arg("tensors"), py::arg("dim") = 0, docstring("stack"));

  auto split_function = [](const Tensor& self, py::handle split_size, int64_t dim) {
    if (PyList_Check(split_size.ptr()) || PyTuple_Check(split_size.ptr()))
      return to_python_list(split(self, to_shape(split_size, "split"), dim));
    TG_CHECK_TYPE(PyLong_Check(split_size.ptr()) && !PyBool_Check(split_size.ptr()),
                  "split", "split_size must be an int or a list of ints, got ", type_name(split_size));
    return to_python_list(split(self, split_size.cast<int64_t>(), dim));
  };
  tensor.def("split", split_function, py::arg("split_size"), py::arg("dim") = 0, docstring("split"));
  module.def("split", checked("split", {"tensor"}, split_function), py::arg("tensor"), py::arg("split_size_or_sections"), py::arg("dim") = 0, docstring("split"));
  auto chunk_function = [](const Tensor& self, int64_t chunks, int64_t dim) { return to_python_list(chunk(self, chunks, dim)); };
  tensor.def("chunk", chunk_function, py::arg("chunks"), py::arg("dim") = 0, docstring("chunk"));
  module.def("chunk", checked("chunk", {"input"}, chunk_function), py::arg("input"), py::arg("chunks"), py::arg("dim") = 0, docstring("chunk"));
}

}  // namespace tg::python
