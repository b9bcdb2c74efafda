// Convolution and the layers' fused kernels (behind tapegrad.nn.functional), private: the public
// names, with PyTorch's argument forms (ints or tuples, padding strings), live in Python.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/conv.h"
#include "tapegrad/ops/pool.h"

namespace tg::python {

namespace {

// The pooling op named `name`, as a string that outlives the call (errors and the profiler keep
// the op's name as a pointer); ValueError for an unknown one.
const char* pool_op(const std::string& name) {
  static const char* const names[] = {"max_pool1d",          "max_pool2d",          "avg_pool1d",
                                      "avg_pool2d",          "adaptive_avg_pool1d", "adaptive_avg_pool2d",
                                      "adaptive_max_pool1d", "adaptive_max_pool2d"};
  for (const char* known : names)
    if (name == known) return known;
  fail<ValueError>("pool", "unknown pooling op ", name);
}

}  // namespace

void bind_conv(py::module_& module) {
  // padding_same: padding="same" (padding is then ignored); "valid" arrives as zeros.
  module.def("_convolution", [](TensorArgument input, TensorArgument weight, OptionalTensor bias, const std::vector<int64_t>& stride,
                                const std::vector<int64_t>& padding, bool padding_same,
                                const std::vector<int64_t>& dilation, int64_t groups) {
    const char* op = stride.size() == 1 ? "conv1d" : "conv2d";
    const Tensor x = to_tensor(input, op, "input"), w = to_tensor(weight, op, "weight");
    const Tensor b = to_optional_tensor(bias, op, "bias");
    const ConvPadding kind = padding_same ? ConvPadding::Same : ConvPadding::Explicit;
    // The GEMM's work: every output element is a dot product over a kernel's worth of input.
    const int64_t work = w.numel() * (x.dim() > 0 ? x.numel() / std::max<int64_t>(x.size(0), 1) : 0);
    return run_releasing_gil(work, [&] { return convolution(x, w, b, stride, kind, padding, dilation, groups, op); });
  }, py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"),
     py::arg("padding_same"), py::arg("dilation"), py::arg("groups"));

  module.def("_convolution_transpose", [](TensorArgument input, TensorArgument weight, OptionalTensor bias,
                                          const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                                          const std::vector<int64_t>& output_padding, int64_t groups,
                                          const std::vector<int64_t>& dilation) {
    const char* op = stride.size() == 1 ? "conv_transpose1d" : "conv_transpose2d";
    const Tensor x = to_tensor(input, op, "input"), w = to_tensor(weight, op, "weight");
    const Tensor b = to_optional_tensor(bias, op, "bias");
    // The GEMM's work: every input element is multiplied by a kernel's worth of weight.
    const int64_t work = w.numel() * (x.dim() > 0 ? x.numel() / std::max<int64_t>(x.size(0), 1) : 0);
    return run_releasing_gil(work, [&] {
      return convolution_transpose(x, w, b, stride, padding, output_padding, groups, dilation, op);
    });
  }, py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"),
     py::arg("output_padding"), py::arg("groups"), py::arg("dilation"));

  // (output, indices): indices is None for averages.
  module.def("_pool", [](const std::string& name, TensorArgument input, std::vector<int64_t> kernel_size,
                         std::vector<int64_t> stride, std::vector<int64_t> padding, std::vector<int64_t> dilation,
                         bool ceil_mode, bool count_include_pad, int64_t divisor_override) {
    const char* op = pool_op(name);
    const PoolKind kind = name.starts_with("max") ? PoolKind::Max : PoolKind::Average;
    const Tensor x = to_tensor(input, op, "input");
    const PoolOptions options{std::move(kernel_size), std::move(stride), std::move(padding), std::move(dilation),
                              ceil_mode, count_include_pad, divisor_override};
    return run_releasing_gil(x.numel(), [&] { return pool(kind, x, options, op); });
  }, py::arg("name"), py::arg("input"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
     py::arg("dilation"), py::arg("ceil_mode"), py::arg("count_include_pad"), py::arg("divisor_override"));
  module.def("_adaptive_pool", [](const std::string& name, TensorArgument input, const std::vector<int64_t>& output_size) {
    const char* op = pool_op(name);
    const PoolKind kind = name.starts_with("adaptive_max") ? PoolKind::Max : PoolKind::Average;
    const Tensor x = to_tensor(input, op, "input");
    return run_releasing_gil(x.numel(), [&] { return adaptive_pool(kind, x, output_size, op); });
  }, py::arg("name"), py::arg("input"), py::arg("output_size"));
}

}  // namespace tg::python
