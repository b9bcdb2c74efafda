// The recurrent layers' op and the embedding lookup (behind tapegrad.nn), private: the modules and
// functional forms, with PyTorch's arguments and conventions, live in Python (nn/rnn.py, nn/sparse.py).
#include <string>
#include <vector>

#include "arguments.h"
#include "bindings.h"
#include "tapegrad/ops/recurrent.h"

namespace tg::python {

namespace {

// The mode named `name` and its op name as a string that outlives the call (errors keep it as a
// pointer); ValueError for an unknown one.
RnnMode rnn_mode(const std::string& name, const char*& op) {
  static const char* const names[] = {"rnn_tanh", "rnn_relu", "lstm", "gru"};
  static const RnnMode modes[] = {RnnMode::Tanh, RnnMode::Relu, RnnMode::Lstm, RnnMode::Gru};
  for (int k = 0; k < 4; ++k)
    if (name == names[k]) {
      op = names[k];
      return modes[k];
    }
  fail<ValueError>("rnn", "unknown recurrent mode ", name);
}

}  // namespace

void bind_recurrent(py::module_& module) {
  // A list: [output, h_n] or, for LSTM, [output, h_n, c_n].
  module.def("_recurrent_layer", [](const std::string& mode_name, TensorArgument input,
                                    const std::vector<int64_t>& batch_sizes, py::handle hx, py::handle cx,
                                    py::handle w_ih, py::handle w_hh, py::handle b_ih, py::handle b_hh, bool reverse) {
    const char* op = nullptr;
    const RnnMode mode = rnn_mode(mode_name, op);
    const Tensor x = to_tensor(input, op, "input"), h = to_tensor(hx, op, "hx");
    const Tensor c = to_optional_tensor(cx, op, "cx");
    const Tensor weight_ih = to_tensor(w_ih, op, "weight_ih"), weight_hh = to_tensor(w_hh, op, "weight_hh");
    const Tensor bias_ih = to_optional_tensor(b_ih, op, "bias_ih"), bias_hh = to_optional_tensor(b_hh, op, "bias_hh");
    // The GEMMs' work: every row meets both weight matrices.
    const int64_t work = x.size(0) * (weight_ih.numel() + weight_hh.numel());
    return run_releasing_gil(work, [&] {
      return recurrent_layer(mode, x, batch_sizes, h, c, weight_ih, weight_hh, bias_ih, bias_hh, reverse, op);
    });
  }, py::arg("mode"), py::arg("input"), py::arg("batch_sizes"), py::arg("hx"), py::arg("cx"), py::arg("weight_ih"),
     py::arg("weight_hh"), py::arg("bias_ih"), py::arg("bias_hh"), py::arg("reverse"));

  module.def("_embedding", [](OptionalTensor weight, py::handle indices, int64_t padding_idx, bool scale_grad_by_freq) {
    const Tensor w = to_tensor(weight, "embedding", "weight"), i = to_tensor(indices, "embedding", "input");
    return call_releasing_gil(embedding, w, i, padding_idx, scale_grad_by_freq);
  }, py::arg("weight"), py::arg("indices"), py::arg("padding_idx"), py::arg("scale_grad_by_freq"));
}

}  // namespace tg::python
