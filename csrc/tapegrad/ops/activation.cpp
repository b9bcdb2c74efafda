#include "tapegrad/ops/activation.h"

#include "tapegrad/autograd/node.h"
#include "tapegrad/core/shape.h"
#include "tapegrad/kernels/backend.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/reduce.h"

namespace tg {

namespace {

const char* op_name(bool log) { return log ? "log_softmax" : "softmax"; }

// The backward of softmax's backward: with grad_input = y * (g - s), s = sum(g * y):
//   d/dg = y * (u - sum(u * y)) = softmax_backward(u, y)   and   d/dy = u * (g - s) - sum(u * y) * g.
// For log_softmax's, grad_input = g - exp(y) * sum(g):
//   d/dg = u - sum(u * exp(y))   and   d/dy = -u * exp(y) * sum(g).
struct SoftmaxBackwardBackward final : Node {
  enum Slot { Grad, Output };
  int64_t dim;
  bool log;
  SoftmaxBackwardBackward(int64_t d, bool l) : dim(d), log(l) {}
  TensorList apply(TensorList&& grads) override {
    const Tensor& u = grads[0];
    const Tensor g = saved(Grad), y = saved(Output);
    Tensor grad_g, grad_y;
    if (log) {
      const Tensor exp_y = exp(y);
      if (needs_input_grad(0)) grad_g = sub(u, sum(mul(u, exp_y), {dim}, true));
      if (needs_input_grad(1)) grad_y = neg(mul(mul(u, exp_y), sum(g, {dim}, true)));
    } else {
      const Tensor u_dot_y = sum(mul(u, y), {dim}, true);
      if (needs_input_grad(0)) grad_g = mul(y, sub(u, u_dot_y));
      if (needs_input_grad(1)) grad_y = sub(mul(u, sub(g, sum(mul(g, y), {dim}, true))), mul(u_dot_y, g));
    }
    return {grad_g, grad_y};
  }
  std::string name() const override { return log ? "LogSoftmaxBackwardDataBackward0" : "SoftmaxBackwardDataBackward0"; }
};

Tensor backward_data(const Tensor& grad, const Tensor& output, int64_t dim, bool log) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  TG_CHECK(grad.sizes() == output.sizes(), op, "grad shape ", grad.sizes(), " differs from output shape ", output.sizes());
  dim = wrap_dim(dim, output.dim(), op);
  Tensor grad_input = Tensor::empty(output.sizes(), output.dtype(), output.device());
  if (output.numel() > 0) {
    NoGradGuard no_grad;
    kernels::backend(log ? "log_softmax_backward" : "softmax_backward", grad_input, grad, output)
        ->softmax_backward(grad_input, to_dtype(grad, output.dtype()), output, dim, log);
  }
  if (needs_grad(grad, output)) {
    auto node = make_node<SoftmaxBackwardBackward>(dim, log);
    node->save(SoftmaxBackwardBackward::Grad, grad);
    node->save(SoftmaxBackwardBackward::Output, output);
    node->connect({&grad, &output}, {&grad_input});
  }
  return grad_input;
}

struct SoftmaxBackward final : Node {
  enum Slot { Output };
  int64_t dim;
  bool log;
  SoftmaxBackward(int64_t d, bool l) : dim(d), log(l) {}
  TensorList apply(TensorList&& grads) override { return {backward_data(grads[0], saved(Output), dim, log)}; }
  std::string name() const override { return log ? "LogSoftmaxBackward0" : "SoftmaxBackward0"; }
};

Tensor softmax_forward(const Tensor& self, int64_t dim, std::optional<DType> dtype, bool log) {
  const char* op = op_name(log);
  const Tensor input = dtype ? to_dtype(self, *dtype) : self;
  if (!is_floating(input.dtype()))
    fail<NotImplementedError>(op, "not implemented for dtype ", dtype_name(input.dtype()), ": it expects a floating-point tensor");
  dim = wrap_dim(dim, input.dim(), op);
  Tensor out = Tensor::empty(input.sizes(), input.dtype(), input.device());
  if (input.numel() > 0) {
    NoGradGuard no_grad;
    kernels::backend(log ? "log_softmax" : "softmax", out, input)->softmax(out, input, dim, log);
  }
  if (needs_grad(input)) {
    auto node = make_node<SoftmaxBackward>(dim, log);
    node->connect({&input}, {&out});
    node->save(SoftmaxBackward::Output, out, /*is_output=*/true);
  }
  return out;
}

}  // namespace

Tensor softmax(const Tensor& self, int64_t dim, std::optional<DType> dtype) { return softmax_forward(self, dim, dtype, false); }
Tensor log_softmax(const Tensor& self, int64_t dim, std::optional<DType> dtype) { return softmax_forward(self, dim, dtype, true); }

Tensor softmax_backward_data(const Tensor& grad, const Tensor& output, int64_t dim) { return backward_data(grad, output, dim, false); }
Tensor log_softmax_backward_data(const Tensor& grad, const Tensor& output, int64_t dim) { return backward_data(grad, output, dim, true); }

}  // namespace tg
