// Trains a 2-64-64-2 MLP on two interleaved spirals with the C++ API alone, and prints the final
// loss and accuracy. Build: cmake -S . -B build -DTAPEGRAD_BUILD_PYTHON=OFF
// -DTAPEGRAD_BUILD_EXAMPLES=ON && cmake --build build && ./build/examples/cpp/train_mlp
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include <tapegrad/tapegrad.h>

namespace {

struct Data {
  tg::Tensor inputs;  // (n, 2) float32
  tg::Tensor labels;  // (n,) int64
};

Data two_spirals(int64_t points_per_class, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> angle(0.5f, 3.0f * float(M_PI));
  std::normal_distribution<float> noise(0.0f, 0.08f);
  Data data{tg::empty({2 * points_per_class, 2}, tg::DType::Float32),
            tg::empty({2 * points_per_class}, tg::DType::Int64)};
  float* xy = data.inputs.data_ptr<float>();
  int64_t* label = data.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < 2 * points_per_class; ++i) {
    const float t = angle(rng), radius = t / (3.0f * float(M_PI)), sign = i % 2 ? -1.0f : 1.0f;
    xy[2 * i] = sign * radius * std::cos(t) + noise(rng) * radius;
    xy[2 * i + 1] = sign * radius * std::sin(t) + noise(rng) * radius;
    label[i] = i % 2;
  }
  return data;
}

struct Linear {
  tg::Tensor weight, bias;
  Linear(int64_t in, int64_t out) {
    // PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)) for both.
    const double bound = 1.0 / std::sqrt(double(in));
    weight = tg::empty({out, in}, tg::DType::Float32);
    bias = tg::empty({out}, tg::DType::Float32);
    tg::uniform_(weight, -bound, bound).requires_grad_();
    tg::uniform_(bias, -bound, bound).requires_grad_();
  }
  tg::Tensor operator()(const tg::Tensor& x) const { return tg::linear(x, weight, bias); }
};

}  // namespace

int main() {
  tg::manual_seed(0);
  const Data data = two_spirals(500, 0);
  const Linear layer1(2, 64), layer2(64, 64), layer3(64, 2);
  const std::vector<tg::Tensor> parameters = {layer1.weight, layer1.bias, layer2.weight,
                                              layer2.bias,   layer3.weight, layer3.bias};
  std::vector<tg::Tensor> momentum(parameters.size());
  tg::SgdOptions sgd;
  sgd.lr = 0.1;
  sgd.momentum = 0.9;

  float loss_value = 0;
  for (int step = 0; step < 1500; ++step) {
    const tg::Tensor logits = layer3(tg::relu(layer2(tg::relu(layer1(data.inputs)))));
    const tg::Tensor loss = tg::cross_entropy(logits, data.labels, {}, tg::Reduction::Mean, -100, 0.0);
    loss.backward();
    tg::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters.size(); ++i) {
      momentum[i] = tg::sgd_step(parameters[i], parameters[i].grad(), momentum[i], sgd);
      parameters[i].set_grad({});
    }
    loss_value = *loss.data_ptr<float>();
  }

  tg::NoGradGuard no_grad;
  const tg::Tensor predictions = tg::argmax(layer3(tg::relu(layer2(tg::relu(layer1(data.inputs))))), 1);
  const tg::Tensor correct = tg::sum(tg::compare(tg::Comparison::Eq, predictions, data.labels));
  const double accuracy = double(*correct.data_ptr<int64_t>()) / double(data.labels.numel());
  std::printf("final loss: %.4f\naccuracy: %.4f\n", loss_value, accuracy);
  return accuracy > 0.9 ? 0 : 1;
}
