// The kernel entry points ops call, declared once: each is a pure virtual method of Backend, and a
// backend is one class implementing all of them (the CPU's is kernels/cpu/backend.h), so a
// signature that drifts from this one is a compile error. Each entry point takes tensors whose
// shapes and dtypes the op has already checked and whose output is allocated.
//
// An op reaches the backend of the device its tensors share through kernels::backend(op, tensors)->:
// tensors on different devices are a RuntimeError, a device without a backend in this build a
// NotImplementedError, both naming the op. The lookup is one load from a table of static instances
// and the call one indirect call: no registry, no allocation, no lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <vector>

#include "tapegrad/core/profiler.h"
#include "tapegrad/core/scalar.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/kernels/activation.h"
#include "tapegrad/kernels/conv.h"
#include "tapegrad/kernels/creation.h"
#include "tapegrad/kernels/kernels.h"
#include "tapegrad/kernels/loss.h"
#include "tapegrad/kernels/normalization.h"
#include "tapegrad/kernels/optim.h"
#include "tapegrad/kernels/pool.h"
#include "tapegrad/kernels/recurrent.h"

namespace tg::kernels {

class Backend {
 public:
  // ---- copy and elementwise -----------------------------------------------------------------------

  // dst[...] = src[...] converted to dst's dtype; src broadcasts to dst's shape.
  virtual void copy(const Tensor& dst, const Tensor& src) = 0;
  virtual void fill(const Tensor& dst, Scalar value) = 0;

  // Elementwise: inputs already converted to the compute dtype and broadcastable to out. Integer
  // FloorDivide/TruncDivide/Remainder expect no zero divisor (the op checks; a kernel cannot throw
  // from inside its threads).
  virtual void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) = 0;
  virtual void unary(UnaryOp op, const Tensor& out, const Tensor& a) = 0;
  // A NaN bound makes every element NaN, as in PyTorch.
  virtual void clamp(const Tensor& out, const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max) = 0;
  // out = condition ? a : b, condition bool.
  virtual void where(const Tensor& out, const Tensor& condition, const Tensor& a, const Tensor& b) = 0;
  // out = output > 0 ? grad : 0
  virtual void threshold_backward(const Tensor& out, const Tensor& grad, const Tensor& output) = 0;
  // out = the activation of a (floating, out's dtype), with PyTorch's formulas (parameters: activation.h).
  virtual void activation(Activation kind, const Tensor& out, const Tensor& a, const ActivationParams& params) = 0;

  // ---- index: gather/scatter through precomputed element offsets (IndexOffsets, kernels.h) -----

  // out (contiguous) = src at the offsets.
  virtual void index_gather(const Tensor& out, const Tensor& src, const IndexOffsets& offsets) = 0;
  // dst at the offsets = (or += when accumulate) values (contiguous, dst's dtype, the result's
  // shape). Repeated offsets accumulate; without accumulate the last write wins.
  virtual void index_put(const Tensor& dst, const Tensor& values, const IndexOffsets& offsets, bool accumulate) = 0;
  // offsets[j] += index[j] * stride for an index (contiguous int64, one entry per offset) into a dim
  // of `size` elements; negative indices count from the end. IndexError naming `op` and `dim` for an
  // index out of range.
  virtual void add_index_offsets(std::vector<int64_t>& offsets, const Tensor& index, int64_t size, int64_t stride,
                                 int64_t dim, const char* op) = 0;
  virtual int64_t count_nonzero(const Tensor& self) = 0;
  // out: (count_nonzero(self), self.dim()) int64, contiguous.
  virtual void nonzero(const Tensor& out, const Tensor& self) = 0;

  // ---- reductions and softmax ---------------------------------------------------------------------

  // out (input's shape reduced over the dims marked in `reduced`, with or without keepdim's size-1
  // dims, any strides) = op over those dims, in input's dtype. max/min propagate NaN; an empty
  // reduction gives the op's identity.
  virtual void reduce(ReduceOp op, const Tensor& out, const Tensor& input, const std::vector<bool>& reduced) = 0;
  // The dim-wise kernels take inputs of any strides (views are read in place where their rows
  // allow, else gathered a block at a time) and write contiguous outputs.
  // Reducing `dim` (size > 0) of input: values and int64 indices, contiguous, of input's shape with
  // dim of size 1. The first extreme wins ties; NaN counts as the extreme.
  virtual void arg_reduce(bool is_max, const Tensor& values, const Tensor& indices, const Tensor& input,
                          int64_t dim) = 0;
  // out (contiguous, input's shape) = softmax (or log_softmax) of input over dim.
  virtual void softmax(const Tensor& out, const Tensor& input, int64_t dim, bool log) = 0;
  // softmax: grad_input = output * (grad - sum(grad * output)); log: grad - exp(output) * sum(grad).
  // grad_input contiguous; grad and output of its shape.
  virtual void softmax_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& output, int64_t dim,
                                bool log) = 0;

  // ---- matrix products (matmul, mm, bmm, dot, linear, einsum) -------------------------------------

  // out (contiguous, batch + (m, n)) = a (batch_a + (m, k)) · b (batch_b + (k, n)), or += with
  // `accumulate`; batch is the broadcast of batch_a and batch_b. Operands have out's dtype
  // (numeric, not bool) and any strides: transposed and sliced ones are read in place, broadcast
  // batch dims through stride 0.
  virtual void matmul(const Tensor& out, const Tensor& a, const Tensor& b, bool accumulate) = 0;

  // ---- convolution: im2col into a per-thread workspace, lowered onto the GEMM --------------------
  // ops/conv.cpp checks shapes and dtypes (float32/float64, all operands alike); the input may have
  // any strides (a channels-last view is read in place), weight and bias (undefined: none) are
  // contiguous, outputs are contiguous and allocated by the caller.

  // out (batch, out_channels, out_h, out_w) = input (*) weight + bias.
  virtual void conv2d(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
                      const ConvGeometry& geometry) = 0;
  // The gradients (each undefined when not needed) of conv2d from grad (contiguous, out's shape):
  // grad_input (input's shape) through col2im, grad_weight and grad_bias (out_channels) summed
  // over the batch. Each is overwritten.
  virtual void conv2d_backward(const Tensor& grad_input, const Tensor& grad_weight, const Tensor& grad_bias,
                               const Tensor& grad, const Tensor& input, const Tensor& weight,
                               const ConvGeometry& geometry) = 0;

  // ---- pooling: one pass over each window, forward and backward -----------------------------------
  // ops/pool.cpp computes the windows; input (batch, channels, in_h, in_w) of any strides, float32 or
  // float64; out contiguous (batch, channels, rows, columns).

  // Max: also writes each maximum's flat index (h * in_w + w) into indices (int64, out's shape); a
  // NaN counts as the maximum. Average: indices is undefined.
  virtual void pool2d(PoolKind kind, const Tensor& out, const Tensor& indices, const Tensor& input,
                      const PoolWindows& windows) = 0;
  // grad_input (contiguous, the input's shape) = grad (contiguous, out's shape) routed back: to each
  // maximum's index, or spread evenly over each average's window. Overwritten.
  virtual void pool2d_backward(PoolKind kind, const Tensor& grad_input, const Tensor& grad, const Tensor& indices,
                               const PoolWindows& windows) = 0;

  // ---- tensors made from nothing: ranges, identity and random draws ------------------------------

  // out (contiguous, 1-D) = start + i * step: stepped in int64 for a non-floating out (start and
  // step truncated), in double otherwise.
  virtual void arange(const Tensor& out, Scalar start, Scalar step) = 0;
  // out (contiguous, 1-D) = numel points from start to end, filled from both ends so the last is
  // exactly end.
  virtual void linspace(const Tensor& out, double start, double end) = 0;
  // out (contiguous, 2-D) = ones on the main diagonal, zeros elsewhere.
  virtual void eye(const Tensor& out) = 0;

  // Random draws come from one generator per backend, which manual_seed resets together (as
  // torch.manual_seed does: see for_each_backend).
  virtual void manual_seed(uint64_t seed) = 0;
  virtual uint64_t initial_seed() = 0;
  // The generator's whole state, as torch.get_rng_state gives the CPU's.
  virtual RngState get_rng_state() = 0;
  virtual void set_rng_state(const RngState& state) = 0;
  // self (any view, floating) = draws, in self's row-major order.
  virtual void uniform(const Tensor& self, double low, double high) = 0;
  virtual void normal(const Tensor& self, double mean, double std) = 0;
  // self (any view) = integers drawn uniformly from [low, high), low < high.
  virtual void randint(const Tensor& self, int64_t low, int64_t high) = 0;
  // out (contiguous, 1-D) = a random permutation of 0 .. numel - 1.
  virtual void randperm(const Tensor& out) = 0;

  // ---- fused losses: one pass forward, one pass backward ------------------------------------------
  // ops/loss.cpp checks shapes, converts every operand to one floating dtype and makes it
  // contiguous; the kernels compute in PyTorch's order of operations (parameter types: loss.h).

  // Pointwise losses (input, target and the optional weights share one shape): writes each
  // element's loss into `out` when it is defined (and returns 0), else returns their sum. weight and
  // pos_weight may be undefined; `parameter` is SmoothL1's beta or Huber's delta. BCE: RuntimeError
  // for an input or target outside [0, 1], naming its flat index.
  virtual double pointwise_loss(PointwiseLoss kind, const Tensor& out, const Tensor& input, const Tensor& target,
                                const Tensor& weight, const Tensor& pos_weight, double parameter) = 0;
  // grad_input and grad_target (either may be undefined: not needed) = the loss's derivatives times
  // the upstream gradient.
  virtual void pointwise_loss_backward(PointwiseLoss kind, const Tensor& grad_input, const Tensor& grad_target,
                                       const Tensor& grad, UpstreamScale scale, const Tensor& input,
                                       const Tensor& target, const Tensor& weight, const Tensor& pos_weight,
                                       double parameter) = 0;
  // Classification losses (ClassTarget says what the target and weight hold): writes each row's
  // loss into `out` when it is defined and its log-sum-exp into log_sum_exp (rows(), saved for
  // backward).
  virtual ClassLossTotals cross_entropy(const Tensor& out, const Tensor& log_sum_exp, const Tensor& input,
                                        const Tensor& target, const Tensor& weight, const ClassTarget& spec) = 0;
  // grad_target is undefined unless the target holds probabilities that need a gradient.
  virtual void cross_entropy_backward(const Tensor& grad_input, const Tensor& grad_target, const Tensor& grad,
                                      UpstreamScale scale, const Tensor& input, const Tensor& target,
                                      const Tensor& weight, const Tensor& log_sum_exp, const ClassTarget& spec) = 0;
  // input holds log-probabilities.
  virtual ClassLossTotals nll_loss(const Tensor& out, const Tensor& input, const Tensor& target, const Tensor& weight,
                                   const ClassTarget& spec) = 0;
  // grad_input, zero-filled by the caller, gets the gradient at each row's target class.
  virtual void nll_loss_backward(const Tensor& grad_input, const Tensor& grad, UpstreamScale scale,
                                 const Tensor& target, const Tensor& weight, const ClassTarget& spec) = 0;

  // ---- fused optimizer updates --------------------------------------------------------------------
  // ops/optim.cpp checks shapes and dtypes; every tensor here has the parameter's shape and dtype and
  // any strides, and the kernels update them in place, in PyTorch's order of operations.

  // momentum_buffer is undefined when options.momentum is 0; on the first step (first_step) it is
  // written with the gradient instead of being read.
  virtual void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& momentum_buffer,
                        const SgdOptions& options, bool first_step) = 0;
  // Increments `step` (a one-element floating tensor) and updates param and the moments;
  // max_exp_avg_sq is used only with amsgrad.
  virtual void adam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                         const Tensor& max_exp_avg_sq, const Tensor& step, const AdamOptions& options) = 0;
  // Increments `step`; grad_avg is used only when centered, momentum_buffer only with momentum > 0.
  virtual void rmsprop_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& grad_avg,
                            const Tensor& momentum_buffer, const Tensor& step, const RmspropOptions& options) = 0;
  // Increments `step` (the decayed lr depends on it) and adds the squared gradient into `sum`.
  virtual void adagrad_step(const Tensor& param, const Tensor& grad, const Tensor& sum, const Tensor& step,
                            const AdagradOptions& options) = 0;
  // Increments `step`; square_avg and acc_delta are the running averages of grad² and update².
  virtual void adadelta_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg, const Tensor& acc_delta,
                             const Tensor& step, const AdadeltaOptions& options) = 0;
  // Increments `step`; exp_inf is the decayed infinity norm of the gradients.
  virtual void adamax_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_inf,
                           const Tensor& step, const AdamaxOptions& options) = 0;
  // Increments `step` and multiplies `mu_product` (one-element tensors, as torch keeps them) by this
  // step's momentum factor.
  virtual void nadam_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                          const Tensor& mu_product, const Tensor& step, const NadamOptions& options) = 0;

  // ---- normalisation: one pass for the statistics, one to normalise; backward alike ---------------
  // ops/normalization.cpp checks shapes and dtypes (float32/float64, all operands alike). weight and
  // bias are undefined when absent (a scale of 1, a shift of 0); every other tensor is defined unless
  // said otherwise; outputs are allocated by the caller and overwritten.

  // Batch norm of input (batch, channels, h, w), any strides, into out (contiguous, input's shape):
  // out = (input - mean) * invstd * weight + bias per channel. `training`: mean and invstd
  // (1 / sqrt(biased variance + eps)) are computed from the input (one pass, per channel) and
  // written, and the biased variance too where `variance` is defined; otherwise mean and invstd hold
  // the statistics to use (the running ones). mean, invstd, variance, weight, bias: (channels),
  // contiguous.
  virtual void batch_norm(const Tensor& out, const Tensor& mean, const Tensor& invstd, const Tensor& variance,
                          const Tensor& input, const Tensor& weight, const Tensor& bias, bool training,
                          double eps) = 0;
  // The gradients (each undefined when not needed) of batch_norm from grad (contiguous, input's
  // shape), with the mean and invstd the forward used: grad_input (contiguous, input's shape)
  // through the batch statistics when `training`, grad_weight and grad_bias (channels).
  virtual void batch_norm_backward(const Tensor& grad_input, const Tensor& grad_weight, const Tensor& grad_bias,
                                   const Tensor& grad, const Tensor& input, const Tensor& weight, const Tensor& mean,
                                   const Tensor& invstd, bool training) = 0;
  // Layer and group norm (RowNormGeometry says how): out (contiguous, input's shape) normalises each
  // row of input (contiguous, (rows, row_size)) and writes its mean and 1 / sqrt(biased variance +
  // eps) into mean and rstd (rows); weight and bias have geometry.affine_channels() elements.
  virtual void row_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& input,
                        const Tensor& weight, const Tensor& bias, const RowNormGeometry& geometry, double eps) = 0;
  // Its gradients (each undefined when not needed) from grad (contiguous, input's shape) and the
  // saved mean and rstd: grad_input (input's shape), grad_weight and grad_bias (affine channels).
  virtual void row_norm_backward(const Tensor& grad_input, const Tensor& grad_weight, const Tensor& grad_bias,
                                 const Tensor& grad, const Tensor& input, const Tensor& weight, const Tensor& mean,
                                 const Tensor& rstd, const RowNormGeometry& geometry) = 0;
  // ---- end of normalisation -------------------------------------------------------------------------

  // ---- recurrent cells, embedding and sampling (ops/recurrent.cpp, ops/sampling.cpp) ------------
  // The recurrent layers run their GEMMs through matmul; these are each time step's fused pointwise
  // part (RecurrentStep in kernels/recurrent.h says what each tensor holds). float32 or float64.
  virtual void recurrent_step(RnnMode mode, const RecurrentStep& step) = 0;
  virtual void recurrent_step_backward(RnnMode mode, const RecurrentStepGrad& step) = 0;
  // grad_weight (contiguous, zero-filled by the caller) += grad's rows (contiguous, (n, dim)) at
  // the rows indices (int64, contiguous, n, in range) name, skipping padding_idx (-1: none); with
  // scale_grad_by_freq each row is divided by how often its index occurs.
  virtual void embedding_backward(const Tensor& grad_weight, const Tensor& grad, const Tensor& indices,
                                  int64_t padding_idx, bool scale_grad_by_freq) = 0;
  // out (contiguous int64, (rows, num_samples)) = category indices drawn from each row of
  // probabilities (contiguous float64, (rows, categories)); without replacement no row repeats a
  // category. RuntimeError naming multinomial for a negative, infinite or NaN probability or a row
  // summing to 0 (checked before any draw).
  virtual void multinomial(const Tensor& out, const Tensor& probabilities, bool replacement) = 0;
  // self (any view) = 1 with probability probabilities (float64, self's shape, contiguous), else 0,
  // drawn in self's row-major order; RuntimeError naming bernoulli for a probability outside [0, 1].
  virtual void bernoulli(const Tensor& self, const Tensor& probabilities) = 0;

  // ---- sorting, scans and triangles (ops/sort.cpp, ops/shape.cpp) ---------------------------------
  // input has any strides; outputs are contiguous, of input's shape (topk: with dim of size k).

  // values and int64 indices: each run along dim sorted, stably (equal elements keep their order),
  // NaN above every number as in PyTorch.
  virtual void sort(const Tensor& values, const Tensor& indices, const Tensor& input, int64_t dim,
                    bool descending) = 0;
  // The k largest (or smallest) of each run along dim, in sorted order, ties to the lower index.
  virtual void topk(const Tensor& values, const Tensor& indices, const Tensor& input, int64_t k, int64_t dim,
                    bool largest) = 0;
  // out (out's dtype, the input converted to it) = running Sum or Prod along dim.
  virtual void cumulative(ReduceOp op, const Tensor& out, const Tensor& input, int64_t dim) = 0;
  // grad_input = the gradient of cumprod along dim, without division, so zeros in input are exact:
  // grad_input[k] = prod(input[:k]) * s[k], s[k] = grad[k] + input[k + 1] * s[k + 1].
  // grad and input have grad_input's shape and dtype.
  virtual void cumprod_backward(const Tensor& grad_input, const Tensor& grad, const Tensor& input, int64_t dim) = 0;
  // out = input with the elements below (upper) or above (lower) `diagonal` of the last two dims
  // zeroed: triu and tril.
  virtual void triangle(const Tensor& out, const Tensor& input, int64_t diagonal, bool upper) = 0;

 protected:
  // Backends are static instances, never deleted through this interface.
  ~Backend() = default;
};

// RuntimeError naming op and the first two devices that differ among `tensors`.
[[noreturn]] void fail_mixed_devices(const char* op, std::initializer_list<const Tensor*> tensors);
// NotImplementedError: no backend for `device` in this build.
[[noreturn]] void fail_no_backend(const char* op, Device device);

namespace detail {
// The backend of each DeviceType, null where this build has none (defined in backend.cpp).
inline constexpr size_t kDeviceTypes = static_cast<size_t>(DeviceType::CUDA) + 1;
extern Backend* const backend_by_device_type[kDeviceTypes];
}  // namespace detail

// The backend for tensors on `device`; NotImplementedError naming op when this build has none.
inline Backend& backend_for(Device device, const char* op) {
  Backend* backend = detail::backend_by_device_type[static_cast<size_t>(device.type)];
  if (backend == nullptr) [[unlikely]]
    fail_no_backend(op, device);
  return *backend;
}

// What kernels::backend() returns: the backend, reached with ->, and, while a profiler runs, the
// range that times the one kernel call made through it (a temporary lives to the end of the call's
// full expression). With no profiler running it costs one relaxed load.
class BackendCall {
 public:
  BackendCall(Backend& backend, const char* op, std::initializer_list<const Tensor*> tensors) : backend_(backend) {
    if (profiler::is_enabled()) [[unlikely]]
      profiled_ = open_profiler_range(op, tensors);
  }
  ~BackendCall() {
    if (profiled_) profiler::pop();
  }
  BackendCall(const BackendCall&) = delete;
  BackendCall& operator=(const BackendCall&) = delete;
  Backend* operator->() const { return &backend_; }

 private:
  static bool open_profiler_range(const char* op, std::initializer_list<const Tensor*> tensors);
  Backend& backend_;
  bool profiled_ = false;
};

// The backend of the device `first` is on, which every other defined tensor must share (undefined
// ones are absent optional operands): kernels::backend("add", out, a, b)->binary(...). `op` names
// the call in errors and in the profiler.
template <typename... Rest>
BackendCall backend(const char* op, const Tensor& first, const Rest&... rest) {
  const Device device = first.device();
  if (((rest.defined() && rest.device() != device) || ...)) [[unlikely]]
    fail_mixed_devices(op, {&first, &rest...});
  return BackendCall(backend_for(device, op), op, {&first, &rest...});
}

// Calls visit(backend) for every backend this build has: what reaches them all, as manual_seed
// seeding every generator.
template <typename Visit>
void for_each_backend(Visit visit) {
  for (Backend* backend : detail::backend_by_device_type)
    if (backend != nullptr) visit(*backend);
}

}  // namespace tg::kernels
