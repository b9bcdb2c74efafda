// sort, argsort, topk, cumsum and cumprod as methods and functions.
#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/sort.h"

namespace tg::python {

void bind_sort(py::module_& module, TensorClass& tensor) {
  auto both = [&](const char* name, auto function, auto... args) {
    tensor.def(name, function, args..., docstring(name));
    module.def(name, checked(name, {"input"}, function), py::arg("input"), args..., docstring(name));
  };
  const py::handle sort_result = values_indices_type(module, "sort", "_SortResult");
  const py::handle topk_result = values_indices_type(module, "topk", "_TopkResult");

  // stable= is accepted for PyTorch's signature: the sort is always stable.
  both("sort", [sort_result](const Tensor& self, Dim dim, bool descending, py::handle stable) -> py::object {
    const ValuesIndices result = call_releasing_gil(sort, self, to_dim(dim, "sort"), descending);
    return sort_result(result.values, result.indices);
  }, py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(), py::arg("stable") = py::none());
  both("argsort", [](const Tensor& self, Dim dim, bool descending, py::handle stable) {
    return call_releasing_gil(argsort, self, to_dim(dim, "argsort"), descending);
  }, py::arg("dim") = -1, py::arg("descending") = false, py::kw_only(), py::arg("stable") = false);
  // sorted=False may return the k in any order (PyTorch's); here they are always sorted.
  both("topk", [topk_result](const Tensor& self, Integer k, Dim dim, bool largest, bool sorted) -> py::object {
    const ValuesIndices result = call_releasing_gil(topk, self, to_int(k, "topk", "k"), to_dim(dim, "topk"), largest);
    return topk_result(result.values, result.indices);
  }, py::arg("k"), py::arg("dim") = -1, py::arg("largest") = true, py::arg("sorted") = true);

  using ScanFn = Tensor (*)(const Tensor&, int64_t, std::optional<DType>);
  for (auto [name, function] : {std::pair{"cumsum", static_cast<ScanFn>(cumsum)},
                                std::pair{"cumprod", static_cast<ScanFn>(cumprod)}}) {
    both(name, [name = name, function = function](const Tensor& self, Dim dim, DTypeArgument dtype) {
      const std::optional<DType> out_dtype = dtype.is_none() ? std::nullopt : std::optional(to_dtype(dtype, name));
      return call_releasing_gil(function, self, to_dim(dim, name), out_dtype);
    }, py::arg("dim"), py::kw_only(), py::arg("dtype") = py::none());
  }
}

}  // namespace tg::python
