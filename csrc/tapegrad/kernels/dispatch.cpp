// Every kernels:: entry point: the backend is chosen by the device its tensors share (dispatch.h).
// A new backend adds its kernels under kernels/<backend>/, one function per entry point with the
// same signature (as kernels/cpu/backend.h declares the CPU's), and one `case` per entry point
// here; ops and autograd stay as they are.
#include "tapegrad/kernels/dispatch.h"

#include "tapegrad/kernels/cpu/backend.h"

namespace tg::kernels {

void fail_mixed_devices(const char* op, std::initializer_list<const Tensor*> tensors) {
  const Device first = (*tensors.begin())->device();
  for (const Tensor* tensor : tensors)
    if (tensor->defined() && tensor->device() != first)
      fail<Error>("[", op, "] expected all tensors to be on the same device, but found at least two devices, ",
                  first.str(), " and ", tensor->device().str());
  fail<Error>("[", op, "] expected all tensors to be on the same device");
}

void fail_no_backend(const char* op, Device device) {
  fail<NotImplementedError>("[", op, "] not implemented for device ", device.str(),
                            " (tapegrad was built without CUDA)");
}

// ---- copy and elementwise -------------------------------------------------------------------------

void copy(const Tensor& dst, const Tensor& src) {
  switch (backend_of("copy", dst, src)) {
    case DeviceType::CPU: return cpu::copy(dst, src);
    default: fail_no_backend("copy", dst.device());
  }
}

void fill(const Tensor& dst, Scalar value) {
  switch (backend_of("fill_", dst)) {
    case DeviceType::CPU: return cpu::fill(dst, value);
    default: fail_no_backend("fill_", dst.device());
  }
}

void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  switch (backend_of("binary", out, a, b)) {
    case DeviceType::CPU: return cpu::binary(op, out, a, b);
    default: fail_no_backend("binary", out.device());
  }
}

void unary(UnaryOp op, const Tensor& out, const Tensor& a) {
  switch (backend_of("unary", out, a)) {
    case DeviceType::CPU: return cpu::unary(op, out, a);
    default: fail_no_backend("unary", out.device());
  }
}

void clamp(const Tensor& out, const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) {
  switch (backend_of("clamp", out, a)) {
    case DeviceType::CPU: return cpu::clamp(out, a, min, max);
    default: fail_no_backend("clamp", out.device());
  }
}

void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b) {
  switch (backend_of("where", out, condition, a, b)) {
    case DeviceType::CPU: return cpu::where(out, condition, a, b);
    default: fail_no_backend("where", out.device());
  }
}

void threshold_backward(const Tensor& out, const Tensor& grad, const Tensor& output) {
  switch (backend_of("threshold_backward", out, grad, output)) {
    case DeviceType::CPU: return cpu::threshold_backward(out, grad, output);
    default: fail_no_backend("threshold_backward", out.device());
  }
}

// ---- index ------------------------------------------------------------------------------------

void index_gather(const Tensor& out, const Tensor& src, const IndexOffsets& offsets) {
  switch (backend_of("index", out, src)) {
    case DeviceType::CPU: return cpu::index_gather(out, src, offsets);
    default: fail_no_backend("index", out.device());
  }
}

void index_put(const Tensor& dst, const Tensor& values, const IndexOffsets& offsets, bool accumulate) {
  switch (backend_of("index_put_", dst, values)) {
    case DeviceType::CPU: return cpu::index_put(dst, values, offsets, accumulate);
    default: fail_no_backend("index_put_", dst.device());
  }
}

void add_index_offsets(std::vector<int64_t>& offsets, const Tensor& index, int64_t size, int64_t stride, int64_t dim,
                       const char* op) {
  switch (backend_of(op, index)) {
    case DeviceType::CPU: return cpu::add_index_offsets(offsets, index, size, stride, dim, op);
    default: fail_no_backend(op, index.device());
  }
}

int64_t count_nonzero(const Tensor& self) {
  switch (backend_of("nonzero", self)) {
    case DeviceType::CPU: return cpu::count_nonzero(self);
    default: fail_no_backend("nonzero", self.device());
  }
}

void nonzero(const Tensor& out, const Tensor& self) {
  switch (backend_of("nonzero", out, self)) {
    case DeviceType::CPU: return cpu::nonzero(out, self);
    default: fail_no_backend("nonzero", out.device());
  }
}

// ---- reductions and softmax ----------------------------------------------------------------------

void reduce(ReduceOp op, const Tensor& out, const Tensor& input, const std::vector<bool>& reduced) {
  switch (backend_of("reduce", out, input)) {
    case DeviceType::CPU: return cpu::reduce(op, out, input, reduced);
    default: fail_no_backend("reduce", out.device());
  }
}

void arg_reduce(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& input, int64_t dim) {
  const char* op = is_max ? "max" : "min";
  switch (backend_of(op, values, indices, input)) {
    case DeviceType::CPU: return cpu::arg_reduce(is_max, values, indices, input, dim);
    default: fail_no_backend(op, values.device());
  }
}

void softmax(const Tensor& out, const Tensor& input, int64_t dim, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  switch (backend_of(op, out, input)) {
    case DeviceType::CPU: return cpu::softmax(out, input, dim, log);
    default: fail_no_backend(op, out.device());
  }
}

void softmax_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& output, int64_t dim, bool log) {
  const char* op = log ? "log_softmax_backward" : "softmax_backward";
  switch (backend_of(op, grad_input, grad, output)) {
    case DeviceType::CPU: return cpu::softmax_backward(grad_input, grad, output, dim, log);
    default: fail_no_backend(op, grad_input.device());
  }
}

// ---- matmul -----------------------------------------------------------------------------------

void matmul(const Tensor& out, const Tensor& a, const Tensor& b, bool accumulate) {
  switch (backend_of("matmul", out, a, b)) {
    case DeviceType::CPU: return cpu::matmul(out, a, b, accumulate);
    default: fail_no_backend("matmul", out.device());
  }
}

// ---- creation and random numbers ----------------------------------------------------------------

void arange(const Tensor& out, Scalar start, Scalar step) {
  switch (backend_of("arange", out)) {
    case DeviceType::CPU: return cpu::arange(out, start, step);
    default: fail_no_backend("arange", out.device());
  }
}

void linspace(const Tensor& out, double start, double end) {
  switch (backend_of("linspace", out)) {
    case DeviceType::CPU: return cpu::linspace(out, start, end);
    default: fail_no_backend("linspace", out.device());
  }
}

void eye(const Tensor& out) {
  switch (backend_of("eye", out)) {
    case DeviceType::CPU: return cpu::eye(out);
    default: fail_no_backend("eye", out.device());
  }
}

// Seeds every backend's generator, as torch.manual_seed does.
void manual_seed(uint64_t seed) { cpu::manual_seed(seed); }
uint64_t initial_seed() { return cpu::initial_seed(); }
RngState get_rng_state() { return cpu::get_rng_state(); }
void set_rng_state(const RngState& state) { cpu::set_rng_state(state); }

void uniform(const Tensor& self, double low, double high) {
  switch (backend_of("uniform_", self)) {
    case DeviceType::CPU: return cpu::uniform(self, low, high);
    default: fail_no_backend("uniform_", self.device());
  }
}

void normal(const Tensor& self, double mean, double std) {
  switch (backend_of("normal_", self)) {
    case DeviceType::CPU: return cpu::normal(self, mean, std);
    default: fail_no_backend("normal_", self.device());
  }
}

void randint(const Tensor& self, int64_t low, int64_t high) {
  switch (backend_of("randint", self)) {
    case DeviceType::CPU: return cpu::randint(self, low, high);
    default: fail_no_backend("randint", self.device());
  }
}

void randperm(const Tensor& out) {
  switch (backend_of("randperm", out)) {
    case DeviceType::CPU: return cpu::randperm(out);
    default: fail_no_backend("randperm", out.device());
  }
}

// ---- losses -----------------------------------------------------------------------------------

double pointwise_loss(PointwiseLoss kind, const Tensor& out, const Tensor& input, const Tensor& target,
                      const Tensor& weight, const Tensor& pos_weight) {
  const char* op = loss_name(kind);
  switch (backend_of(op, input, out, target, weight, pos_weight)) {
    case DeviceType::CPU: return cpu::pointwise_loss(kind, out, input, target, weight, pos_weight);
    default: fail_no_backend(op, input.device());
  }
}

void pointwise_loss_backward(PointwiseLoss kind, const Tensor& grad_input, const Tensor& grad_target, const Tensor& grad,
                             UpstreamScale scale, const Tensor& input, const Tensor& target, const Tensor& weight,
                             const Tensor& pos_weight) {
  const char* op = loss_name(kind);
  switch (backend_of(op, grad, grad_input, grad_target, input, target, weight, pos_weight)) {
    case DeviceType::CPU:
      return cpu::pointwise_loss_backward(kind, grad_input, grad_target, grad, scale, input, target, weight, pos_weight);
    default: fail_no_backend(op, grad.device());
  }
}

ClassLossTotals cross_entropy(const Tensor& out, const Tensor& log_sum_exp, const Tensor& input, const Tensor& target,
                              const Tensor& weight, const ClassTarget& spec) {
  switch (backend_of("cross_entropy", input, out, log_sum_exp, target, weight)) {
    case DeviceType::CPU: return cpu::cross_entropy(out, log_sum_exp, input, target, weight, spec);
    default: fail_no_backend("cross_entropy", input.device());
  }
}

void cross_entropy_backward(const Tensor& grad_input, const Tensor& grad_target, const Tensor& grad, UpstreamScale scale,
                            const Tensor& input, const Tensor& target, const Tensor& weight, const Tensor& log_sum_exp,
                            const ClassTarget& spec) {
  const char* op = "cross_entropy_backward";
  switch (backend_of(op, grad, grad_input, grad_target, input, target, weight, log_sum_exp)) {
    case DeviceType::CPU:
      return cpu::cross_entropy_backward(grad_input, grad_target, grad, scale, input, target, weight, log_sum_exp, spec);
    default: fail_no_backend(op, grad.device());
  }
}

ClassLossTotals nll_loss(const Tensor& out, const Tensor& input, const Tensor& target, const Tensor& weight,
                         const ClassTarget& spec) {
  switch (backend_of("nll_loss", input, out, target, weight)) {
    case DeviceType::CPU: return cpu::nll_loss(out, input, target, weight, spec);
    default: fail_no_backend("nll_loss", input.device());
  }
}

void nll_loss_backward(const Tensor& grad_input, const Tensor& grad, UpstreamScale scale, const Tensor& target,
                       const Tensor& weight, const ClassTarget& spec) {
  switch (backend_of("nll_loss_backward", grad_input, grad, target, weight)) {
    case DeviceType::CPU: return cpu::nll_loss_backward(grad_input, grad, scale, target, weight, spec);
    default: fail_no_backend("nll_loss_backward", grad_input.device());
  }
}

// ---- optimizers -------------------------------------------------------------------------------

void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer, const SgdOptions& options,
              bool first_step) {
  switch (backend_of("sgd_step", param, grad, momentum_buffer)) {
    case DeviceType::CPU: return cpu::sgd_step(param, grad, momentum_buffer, options, first_step);
    default: fail_no_backend("sgd_step", param.device());
  }
}

void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
               const Tensor& max_exp_avg_sq, const Tensor& step, const AdamOptions& options) {
  const char* op = options.decoupled_weight_decay ? "adamw_step" : "adam_step";
  switch (backend_of(op, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step)) {
    case DeviceType::CPU: return cpu::adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, options);
    default: fail_no_backend(op, param.device());
  }
}

}  // namespace tg::kernels
