// Fused losses (functional forms behind tapegrad.nn.functional) and fused optimizer updates
// (behind tapegrad.optim). All private: the public names live in tapegrad.nn and tapegrad.optim.
#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/loss.h"
#include "tapegrad/ops/optim.h"

namespace tg::python {

void bind_nn(py::module_& module, TensorClass& tensor) {
  module.def("_cross_entropy", [](TensorArgument input, TensorArgument target, OptionalTensor weight, int64_t ignore_index,
                                  const std::string& reduction, double label_smoothing) {
    const char* op = "cross_entropy";
    return call_releasing_gil(cross_entropy, to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                              to_optional_tensor(weight, op, "weight"), reduction_from_string(reduction, op),
                              ignore_index, label_smoothing);
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
     py::arg("reduction") = "mean", py::arg("label_smoothing") = 0.0);
  module.def("_nll_loss", [](TensorArgument input, TensorArgument target, OptionalTensor weight, int64_t ignore_index,
                             const std::string& reduction) {
    const char* op = "nll_loss";
    return call_releasing_gil(nll_loss, to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                              to_optional_tensor(weight, op, "weight"), reduction_from_string(reduction, op),
                              ignore_index);
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
     py::arg("reduction") = "mean");
  module.def("_mse_loss", [](TensorArgument input, TensorArgument target, const std::string& reduction) {
    const char* op = "mse_loss";
    return call_releasing_gil(mse_loss, to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                              reduction_from_string(reduction, op));
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean");
  module.def("_l1_loss", [](TensorArgument input, TensorArgument target, const std::string& reduction) {
    const char* op = "l1_loss";
    return call_releasing_gil(l1_loss, to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                              reduction_from_string(reduction, op));
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean");
  module.def("_smooth_l1_loss", [](TensorArgument input, TensorArgument target, const std::string& reduction, double beta) {
    const char* op = "smooth_l1_loss";
    return call_releasing_gil(smooth_l1_loss, to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                              reduction_from_string(reduction, op), beta);
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("beta") = 1.0);
  module.def("_huber_loss", [](TensorArgument input, TensorArgument target, const std::string& reduction, double delta) {
    const char* op = "huber_loss";
    return call_releasing_gil(huber_loss, to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                              reduction_from_string(reduction, op), delta);
  }, py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("delta") = 1.0);
  module.def("_binary_cross_entropy", [](TensorArgument input, TensorArgument target, OptionalTensor weight,
                                         const std::string& reduction) {
    const char* op = "binary_cross_entropy";
    return call_releasing_gil(binary_cross_entropy, to_tensor(input, op, "input"), to_tensor(target, op, "target"),
                              to_optional_tensor(weight, op, "weight"), reduction_from_string(reduction, op));
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("reduction") = "mean");
  module.def("_binary_cross_entropy_with_logits", [](TensorArgument input, TensorArgument target, OptionalTensor weight,
                                                     OptionalTensor pos_weight, const std::string& reduction) {
    const char* op = "binary_cross_entropy_with_logits";
    return call_releasing_gil(binary_cross_entropy_with_logits, to_tensor(input, op, "input"),
                              to_tensor(target, op, "target"), to_optional_tensor(weight, op, "weight"),
                              to_optional_tensor(pos_weight, op, "pos_weight"), reduction_from_string(reduction, op));
  }, py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("pos_weight") = py::none(),
     py::arg("reduction") = "mean");

  // The optimizers hand these their own state tensors, so no argument here comes from a user.
  module.def("_sgd_step", [](const Tensor& param, const Tensor& grad, py::handle momentum_buffer, double lr,
                             double momentum, double dampening, double weight_decay, bool nesterov, bool maximize) {
    return call_releasing_gil(sgd_step, param, grad, to_optional_tensor(momentum_buffer, "sgd", "momentum_buffer"),
                              SgdOptions{lr, momentum, dampening, weight_decay, nesterov, maximize});
  }, py::arg("param"), py::arg("grad"), py::arg("momentum_buffer"), py::arg("lr"), py::arg("momentum") = 0.0,
     py::arg("dampening") = 0.0, py::arg("weight_decay") = 0.0, py::arg("nesterov") = false, py::arg("maximize") = false);
  auto adam = [](bool decoupled) {
    return [decoupled](const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                       py::handle max_exp_avg_sq, const Tensor& step, double lr, double beta1, double beta2, double eps,
                       double weight_decay, bool amsgrad, bool maximize) {
      call_releasing_gil(adam_step, param, grad, exp_avg, exp_avg_sq,
                         to_optional_tensor(max_exp_avg_sq, decoupled ? "adamw" : "adam", "max_exp_avg_sq"), step,
                         AdamOptions{lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled});
    };
  };
  for (auto [name, decoupled] : {std::pair{"_adam_step", false}, std::pair{"_adamw_step", true}})
    module.def(name, adam(decoupled), py::arg("param"), py::arg("grad"), py::arg("exp_avg"), py::arg("exp_avg_sq"),
               py::arg("max_exp_avg_sq"), py::arg("step"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"),
               py::arg("eps"), py::arg("weight_decay"), py::arg("amsgrad") = false, py::arg("maximize") = false, docstring(name));
  module.def("_rmsprop_step", [](const Tensor& param, const Tensor& grad, const Tensor& square_avg, py::handle grad_avg,
                                 py::handle momentum_buffer, const Tensor& step, double lr, double alpha, double eps,
                                 double weight_decay, double momentum, bool centered, bool maximize) {
    call_releasing_gil(rmsprop_step, param, grad, square_avg, to_optional_tensor(grad_avg, "rmsprop", "grad_avg"),
                       to_optional_tensor(momentum_buffer, "rmsprop", "momentum_buffer"), step,
                       RmspropOptions{lr, alpha, eps, weight_decay, momentum, centered, maximize});
  }, py::arg("param"), py::arg("grad"), py::arg("square_avg"), py::arg("grad_avg"), py::arg("momentum_buffer"),
     py::arg("step"), py::arg("lr"), py::arg("alpha"), py::arg("eps"), py::arg("weight_decay"), py::arg("momentum"),
     py::arg("centered") = false, py::arg("maximize") = false);
  module.def("_adagrad_step", [](const Tensor& param, const Tensor& grad, const Tensor& sum, const Tensor& step,
                                 double lr, double lr_decay, double weight_decay, double eps, bool maximize) {
    call_releasing_gil(adagrad_step, param, grad, sum, step, AdagradOptions{lr, lr_decay, weight_decay, eps, maximize});
  }, py::arg("param"), py::arg("grad"), py::arg("sum"), py::arg("step"), py::arg("lr"), py::arg("lr_decay"),
     py::arg("weight_decay"), py::arg("eps"), py::arg("maximize") = false);
  module.def("_adadelta_step", [](const Tensor& param, const Tensor& grad, const Tensor& square_avg,
                                  const Tensor& acc_delta, const Tensor& step, double lr, double rho, double eps,
                                  double weight_decay, bool maximize) {
    call_releasing_gil(adadelta_step, param, grad, square_avg, acc_delta, step,
                       AdadeltaOptions{lr, rho, eps, weight_decay, maximize});
  }, py::arg("param"), py::arg("grad"), py::arg("square_avg"), py::arg("acc_delta"), py::arg("step"), py::arg("lr"),
     py::arg("rho"), py::arg("eps"), py::arg("weight_decay"), py::arg("maximize") = false);
  module.def("_adamax_step", [](const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_inf,
                                const Tensor& step, double lr, double beta1, double beta2, double eps,
                                double weight_decay, bool maximize) {
    call_releasing_gil(adamax_step, param, grad, exp_avg, exp_inf, step,
                       AdamaxOptions{lr, beta1, beta2, eps, weight_decay, maximize});
  }, py::arg("param"), py::arg("grad"), py::arg("exp_avg"), py::arg("exp_inf"), py::arg("step"), py::arg("lr"),
     py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"), py::arg("maximize") = false);
  module.def("_nadam_step", [](const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                               const Tensor& mu_product, const Tensor& step, double lr, double beta1, double beta2,
                               double eps, double weight_decay, double momentum_decay, bool decoupled_weight_decay,
                               bool maximize) {
    call_releasing_gil(nadam_step, param, grad, exp_avg, exp_avg_sq, mu_product, step,
                       NadamOptions{lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled_weight_decay,
                                    maximize});
  }, py::arg("param"), py::arg("grad"), py::arg("exp_avg"), py::arg("exp_avg_sq"), py::arg("mu_product"),
     py::arg("step"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
     py::arg("momentum_decay"), py::arg("decoupled_weight_decay") = false, py::arg("maximize") = false);
}

}  // namespace tg::python
