// The README's C++ example, with a check appended before main returns: fitting y = x·(1, 1, 1)
// by gradient descent must drive the weights to ones.
#include <cmath>
#include <cstdio>

#include <tapegrad/tapegrad.h>

int main() {
  tg::Tensor x = tg::randn({64, 3}, tg::DType::Float32);
  tg::Tensor y = tg::sum(x, {1}), w = tg::zeros({3}, tg::DType::Float32).requires_grad_();
  for (int step = 0; step < 100; ++step) {
    tg::Tensor loss = tg::mean(tg::pow(tg::sum(tg::mul(x, w), {1}) - y, 2));
    loss.backward();
    tg::NoGradGuard no_grad;
    tg::sgd_step(w, w.grad(), {}, {.lr = 0.1});
    w.set_grad({});
  }
  const float* weights = w.data_ptr<float>();
  std::printf("w = (%.4f, %.4f, %.4f)\n", weights[0], weights[1], weights[2]);
  for (int i = 0; i < 3; ++i)
    if (std::fabs(weights[i] - 1.0f) > 1e-2f) return 1;
  return 0;
}
