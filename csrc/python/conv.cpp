// Convolution and the layers' fused kernels (behind tapegrad.nn.functional), private: the public
// names, with PyTorch's argument forms (ints or tuples, padding strings), live in Python.
#include <algorithm>

#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/conv.h"

namespace tg::python {

void bind_conv(py::module_& module) {
  // padding_same: padding="same" (padding is then ignored); "valid" arrives as zeros.
  module.def("_convolution", [](py::handle input, py::handle weight, py::handle bias, const std::vector<int64_t>& stride,
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
}

}  // namespace tg::python
