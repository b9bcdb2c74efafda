// Fused losses (functional forms behind tapegrad.nn.functional) and fused optimizer updates
// (behind tapegrad.optim). All private: the public names live in tapegrad.nn and tapegrad.optim.
#include "bindings.h"
#include "tapegrad/ops/loss.h"
#include "tapegrad/ops/optim.h"

namespace tg::python {

namespace {

Tensor optional_tensor(py::handle object) { return object.is_none() ? Tensor() : as_tensor(object); }

}  // namespace

void bind_nn(py::module_& module, TensorClass& tensor) {
  module.def("_cross_entropy", [](const Tensor& input, const Tensor& target, py::handle weight, int64_t ignore_index,
                                  const std::string& reduction, double label_smoothing) {
    return call_releasing_gil(cross_entropy, input, target, optional_tensor(weight),
                              reduction_from_string(reduction, "cross_entropy"), ignore_index, label_smoothing);
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
     py::arg("reduction") = "mean", py::arg("label_smoothing") = 0.0);
  module.def("_nll_loss", [](const Tensor& input, const Tensor& target, py::handle weight, int64_t ignore_index,
                             const std::string& reduction) {
    return call_releasing_gil(nll_loss, input, target, optional_tensor(weight),
                              reduction_from_string(reduction, "nll_loss"), ignore_index);
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
     py::arg("reduction") = "mean");
  module.def("_mse_loss", [](const Tensor& input, const Tensor& target, const std::string& reduction) {
    return call_releasing_gil(mse_loss, input, target, reduction_from_string(reduction, "mse_loss"));
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean");
  module.def("_l1_loss", [](const Tensor& input, const Tensor& target, const std::string& reduction) {
    return call_releasing_gil(l1_loss, input, target, reduction_from_string(reduction, "l1_loss"));
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean");
  module.def("_binary_cross_entropy", [](const Tensor& input, const Tensor& target, py::handle weight,
                                         const std::string& reduction) {
    return call_releasing_gil(binary_cross_entropy, input, target, optional_tensor(weight),
                              reduction_from_string(reduction, "binary_cross_entropy"));
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("reduction") = "mean");
  module.def("_binary_cross_entropy_with_logits", [](const Tensor& input, const Tensor& target, py::handle weight,
                                                     py::handle pos_weight, const std::string& reduction) {
    return call_releasing_gil(binary_cross_entropy_with_logits, input, target, optional_tensor(weight),
                              optional_tensor(pos_weight),
                              reduction_from_string(reduction, "binary_cross_entropy_with_logits"));
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("pos_weight") = py::none(),
     py::arg("reduction") = "mean");

  module.def("_sgd_step", [](const Tensor& param, const Tensor& grad, py::handle momentum_buffer, double lr,
                             double momentum, double dampening, double weight_decay, bool nesterov, bool maximize) {
    return call_releasing_gil(sgd_step, param, grad, optional_tensor(momentum_buffer),
                              SgdOptions{lr, momentum, dampening, weight_decay, nesterov, maximize});
  }, py::arg("param"), py::arg("grad"), py::arg("momentum_buffer"), py::arg("lr"), py::arg("momentum") = 0.0,
     py::arg("dampening") = 0.0, py::arg("weight_decay") = 0.0, py::arg("nesterov") = false, py::arg("maximize") = false);
  auto adam = [](bool decoupled) {
    return [decoupled](const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                       py::handle max_exp_avg_sq, const Tensor& step, double lr, double beta1, double beta2, double eps,
                       double weight_decay, bool amsgrad, bool maximize) {
      call_releasing_gil(adam_step, param, grad, exp_avg, exp_avg_sq, optional_tensor(max_exp_avg_sq), step,
                         AdamOptions{lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled});
    };
  };
  for (auto [name, decoupled] : {std::pair{"_adam_step", false}, std::pair{"_adamw_step", true}})
    module.def(name, adam(decoupled), py::arg("param"), py::arg("grad"), py::arg("exp_avg"), py::arg("exp_avg_sq"),
               py::arg("max_exp_avg_sq"), py::arg("step"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"),
               py::arg("eps"), py::arg("weight_decay"), py::arg("amsgrad") = false, py::arg("maximize") = false);
}

}  // namespace tg::python
