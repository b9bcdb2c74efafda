// The vocabulary of Python arguments: how each kind of value an op takes (tensor, int, dim, dims,
// number, dtype, device, shape) is read from a Python object, with one wording of the TypeError
// for a value of the wrong kind, and the Python objects that stand for dtypes, devices and sizes.
#pragma once

#include <array>
#include <string>
#include <type_traits>
#include <utility>

#include "bindings.h"
#include "tapegrad/core/scalar.h"

namespace tg::python {

// The name of an object's type, for error messages ("got float").
inline std::string type_name(py::handle object) { return py::str(py::type::of(object).attr("__name__")); }

// Each parser raises TypeError naming `op` on a value of the wrong kind.
bool is_tensor(py::handle object);
Tensor as_tensor(py::handle object);  // the tensor in a Python object already known to be one
// The tensor held by a Python Tensor or subclass object, or false if it is not one: without
// pybind11's caster, for raw CPython slots and to_tensor.
bool unwrap_tensor(PyObject* object, Tensor& tensor);
// A tensor argument: "[op] expected a tensor for argument 'name', got list" for anything else.
Tensor to_tensor(py::handle object, const char* op, const char* name);
// The same, with None an undefined tensor (an omitted weight=, bias=, ...).
Tensor to_optional_tensor(py::handle object, const char* op, const char* name);
// The tensors of a sequence argument (None an undefined tensor where allow_none):
// "[op] expected a sequence of tensors, got an element of type str" for anything else.
std::vector<Tensor> to_tensors(py::handle sequence, const char* op, bool allow_none = false);
// An int argument as PyTorch's parser takes it: an int or anything with __index__ (NumPy integers,
// one-element integer tensors), never a bool or a float; RuntimeError when it does not fit int64.
int64_t to_int(py::handle object, const char* op, const char* name);
// A dim argument: as to_int, but an int past int64 is out of range, an IndexError.
int64_t to_dim(py::handle object, const char* op);
// Dims as PyTorch takes them: f(0), f((0, 1)), f([0, 1]), or f(0, 1) for the args form.
DimVector to_dims(py::handle object, const char* op);
DimVector to_dims(const py::args& args, const char* op);
bool is_scalar(py::handle object);  // bool, int, float, or a NumPy scalar of those
Scalar to_scalar(py::handle object, const char* op);
DType to_dtype(py::handle object, const char* op);  // tapegrad dtypes, Python float/int/bool, NumPy dtypes
bool is_dtype(py::handle object);                   // a tapegrad dtype object
py::object dtype_object(DType dtype);
Device to_device(py::handle object, const char* op);  // tapegrad.device, "cpu", "cuda:0", torch.device
py::object device_object(Device device);              // a tapegrad.device
// Shapes as PyTorch takes them: f(2, 3), f((2, 3)), f([2, 3]) or f(Size); each size as to_int.
DimVector to_shape(const py::args& args, const char* op);
DimVector to_shape(py::handle sequence, const char* op);
// A tapegrad.Size (the tuple subclass shape returns).
py::object make_size(const DimVector& sizes);

// The named tuple type (values, indices) that `name` returns along a dim, as torch.return_types.<name>:
// made once and kept as the module attribute `attribute`. Its __module__ is tapegrad.return_types,
// which re-exports it, so that pickle and the stubs find it by name.
py::handle values_indices_type(py::module_& module, const char* name, const char* attribute);

// ---- The same vocabulary as parameter types, for the stubs -------------------------------------
// A binding takes a loosely typed argument (a tensor or a number, a dim or dims) as a Python object
// and reads it with a parser above; pybind11 would show each such parameter as typing.Any. These
// are Python objects under the type an editor should show (the committed _C.pyi); they accept
// anything, as py::handle does, and leave the checking to the parsers.
template <typename Hint>
class Typed : public py::object {
 public:
  Typed() = default;
  Typed(py::handle object, borrowed_t) : py::object(object, borrowed_t{}) {}
  Typed(py::handle object, stolen_t) : py::object(object, stolen_t{}) {}
  Typed(py::object object) : py::object(std::move(object)) {}  // NOLINT: any object is one
  static bool check_(py::handle) { return true; }
};

#define TG_ARGUMENT_HINT(Name, text) \
  struct Name##Hint {                \
    static constexpr auto name = py::detail::const_name(text); \
  };                                 \
  using Name = Typed<Name##Hint>

TG_ARGUMENT_HINT(TensorArgument, "tapegrad._C.Tensor");
TG_ARGUMENT_HINT(OptionalTensor, "tapegrad._C.Tensor | None");
TG_ARGUMENT_HINT(TensorOrNumber, "tapegrad._C.Tensor | float | int | bool");
TG_ARGUMENT_HINT(Number, "float | int | bool");
TG_ARGUMENT_HINT(OptionalNumber, "float | int | bool | None");
TG_ARGUMENT_HINT(Dim, "typing.SupportsIndex");
TG_ARGUMENT_HINT(Integer, "typing.SupportsIndex");
TG_ARGUMENT_HINT(OptionalInteger, "typing.SupportsIndex | None");
TG_ARGUMENT_HINT(DimOrTensor, "typing.SupportsIndex | tapegrad._C.Tensor | None");  // max(dim) or max(other)
TG_ARGUMENT_HINT(OptionalDims, "typing.SupportsIndex | collections.abc.Sequence[typing.SupportsIndex] | None");
TG_ARGUMENT_HINT(Shape, "collections.abc.Sequence[typing.SupportsIndex]");
TG_ARGUMENT_HINT(Tensors, "collections.abc.Sequence[tapegrad._C.Tensor]");
TG_ARGUMENT_HINT(DTypeArgument, "tapegrad._C.dtype | type | None");
TG_ARGUMENT_HINT(DeviceArgument, "tapegrad._C.device | str | None");
TG_ARGUMENT_HINT(GeneratorArgument, "tapegrad._C.Generator | None");
TG_ARGUMENT_HINT(OptionalBool, "bool | None");
TG_ARGUMENT_HINT(OptionalStr, "str | None");
#undef TG_ARGUMENT_HINT

// `function` with its tensor parameters taken as any Python object and read by to_tensor, so that a
// wrong one is to_tensor's TypeError naming op and the argument, not pybind11's overload message.
// `names` are the tensor parameters' names, in order: checked("gather", {"input", "index"}, gather)
// (names past the last tensor parameter go unused, so one list serves a family).
template <size_t TensorCount, typename Function>
auto checked(const char* op, const char* const (&names)[TensorCount], Function function);

// Binds the argument types themselves: tapegrad.dtype and its objects, tapegrad.device, the
// default dtype, and where tapegrad.Size comes from.
void bind_arguments(py::module_& module);

namespace detail {

template <typename Parameter>
constexpr bool is_tensor_parameter = std::is_same_v<std::remove_cvref_t<Parameter>, Tensor>;
template <typename Parameter>
using PythonParameter = std::conditional_t<is_tensor_parameter<Parameter>, TensorArgument, Parameter>;

// The position among the tensor parameters of parameter `index`.
template <typename... Parameters>
constexpr size_t tensor_ordinal(size_t index) {
  constexpr bool is_tensor[] = {is_tensor_parameter<Parameters>..., false};
  size_t ordinal = 0;
  for (size_t i = 0; i < index; ++i) ordinal += is_tensor[i] ? 1 : 0;
  return ordinal;
}

template <typename Parameter, size_t TensorCount>
decltype(auto) from_python(PythonParameter<Parameter>& argument, const char* op,
                           const std::array<const char*, TensorCount>& names, size_t ordinal) {
  if constexpr (is_tensor_parameter<Parameter>) return to_tensor(argument, op, names[ordinal]);
  else return std::forward<Parameter>(argument);
}

template <typename Function, typename Result, typename... Parameters, size_t TensorCount, size_t... Indices>
auto checked_with(const char* op, const std::array<const char*, TensorCount>& names, Function function,
                  std::index_sequence<Indices...>) {
  static_assert(tensor_ordinal<Parameters...>(sizeof...(Parameters)) <= TensorCount,
                "checked: a name for each tensor parameter");
  return [op, names, function](PythonParameter<Parameters>... arguments) -> Result {
    return function(from_python<Parameters>(arguments, op, names, tensor_ordinal<Parameters...>(Indices))...);
  };
}

template <typename Function, typename Result, typename... Parameters, size_t TensorCount>
auto checked_as(const char* op, const std::array<const char*, TensorCount>& names, Function function,
                Result (*)(Parameters...)) {
  return checked_with<Function, Result, Parameters...>(op, names, std::move(function),
                                                       std::index_sequence_for<Parameters...>());
}

template <typename Signature>
struct CallSignature;
template <typename Callable, typename Result, typename... Parameters>
struct CallSignature<Result (Callable::*)(Parameters...) const> {
  using Pointer = Result (*)(Parameters...);
};

}  // namespace detail

template <size_t TensorCount, typename Function>
auto checked(const char* op, const char* const (&names)[TensorCount], Function function) {
  const std::array<const char*, TensorCount> name_array = std::to_array(names);
  if constexpr (std::is_pointer_v<Function>) {
    return detail::checked_as(op, name_array, function, Function{});
  } else {
    using Pointer = typename detail::CallSignature<decltype(&Function::operator())>::Pointer;
    return detail::checked_as(op, name_array, std::move(function), Pointer{});
  }
}

}  // namespace tg::python

template <typename Hint>
struct pybind11::detail::handle_type_name<tg::python::Typed<Hint>> {
  static constexpr auto name = Hint::name;
};
