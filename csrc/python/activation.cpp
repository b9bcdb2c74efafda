// The activations behind tapegrad.nn.functional (private: the public names live there).
#include <iterator>
#include <string_view>

#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/activation.h"

namespace tg::python {

namespace {

using kernels::Activation;
using kernels::ActivationParams;

// The names nn.functional passes, one per kind.
Activation activation_of(std::string_view name) {
  static constexpr std::pair<std::string_view, Activation> kinds[] = {
      {"gelu", Activation::Gelu},         {"gelu_tanh", Activation::GeluTanh},   {"silu", Activation::Silu},
      {"leaky_relu", Activation::LeakyRelu}, {"elu", Activation::Elu},             {"celu", Activation::Celu},
      {"softplus", Activation::Softplus}, {"mish", Activation::Mish},            {"log_sigmoid", Activation::LogSigmoid},
      {"hardsigmoid", Activation::Hardsigmoid}, {"hardswish", Activation::Hardswish}};
  static_assert(std::size(kinds) == static_cast<size_t>(Activation::Hardswish) + 1, "one name per Activation");
  for (const auto& [known, kind] : kinds)
    if (known == name) return kind;
  fail<ValueError>("activation", "unknown activation '", name, "'");
}

}  // namespace

void bind_activation(py::module_& module) {
  module.def("_activation", [](const std::string& name, TensorArgument input, bool inplace, double negative_slope,
                               double alpha, double scale, double input_scale, double beta, double threshold) {
    const Activation kind = activation_of(name);
    Tensor self = to_tensor(input, name.c_str(), "input");
    const ActivationParams params{negative_slope, alpha, scale, input_scale, beta, threshold};
    if (!inplace) return call_releasing_gil(activation, kind, self, params);
    call_releasing_gil(activation_, self, kind, params);
    return self;
  }, py::arg("name"), py::arg("input"), py::arg("inplace") = false, py::arg("negative_slope") = 0.01,
     py::arg("alpha") = 1.0, py::arg("scale") = 1.0, py::arg("input_scale") = 1.0, py::arg("beta") = 1.0,
     py::arg("threshold") = 20.0);
  module.def("_hardtanh", [](TensorArgument input, py::handle min_val, py::handle max_val, bool inplace) {
    const char* op = inplace ? "hardtanh_" : "hardtanh";
    Tensor self = to_tensor(input, op, "input");
    const Scalar low = to_scalar(min_val, op), high = to_scalar(max_val, op);
    if (!inplace) return call_releasing_gil(hardtanh, self, low, high);
    call_releasing_gil(hardtanh_, self, low, high);
    return self;
  }, py::arg("input"), py::arg("min_val") = -1.0, py::arg("max_val") = 1.0, py::arg("inplace") = false);
  module.def("_glu", [](TensorArgument input, int64_t dim) { return call_releasing_gil(glu, to_tensor(input, "glu", "input"), dim); },
             py::arg("input"), py::arg("dim") = -1);
}

}  // namespace tg::python
