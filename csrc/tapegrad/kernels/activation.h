// The parameter types of the activation kernels (Backend::activation, kernels/backend.h declares
// it): the activations with a parameter or a formula of their own that is not one of UnaryOp's.
#pragma once

namespace tg::kernels {

// Gelu is the exact (erf) form, GeluTanh the tanh approximation. Celu is Elu's formula with scale 1
// and input_scale 1 / alpha (alpha not 0).
enum class Activation { Gelu, GeluTanh, Silu, LeakyRelu, Elu, Celu, Softplus, Mish, LogSigmoid, Hardsigmoid,
                        Hardswish };

// PyTorch's arguments, each read only by the kinds named beside it.
struct ActivationParams {
  double negative_slope = 0.01;                          // LeakyRelu
  double alpha = 1.0, scale = 1.0, input_scale = 1.0;  // Elu: x > 0 ? scale x : scale alpha (e^(input_scale x) - 1); Celu: alpha
  double beta = 1.0, threshold = 20.0;                   // Softplus: beta x > threshold ? x : log(1 + e^(beta x)) / beta
  double min_val = -1.0, max_val = 1.0;                  // hardtanh's gradient (its forward is Backend::clamp)
};

}  // namespace tg::kernels
