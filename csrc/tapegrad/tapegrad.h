// The public C++ API: #include <tapegrad/tapegrad.h> and link tapegrad::tapegrad.
//
//   tg::Tensor w = tg::randn({784, 10}, tg::DType::Float32).requires_grad_();
//   tg::Tensor loss = tg::cross_entropy(tg::matmul(x, w), labels, {}, tg::Reduction::Mean, -100, 0.0);
//   loss.backward();
//   { tg::NoGradGuard no_grad; tg::sgd_step(w, w.grad(), {}, {.lr = 0.1}); }
//
// Names mirror the Python API (tapegrad.matmul is tg::matmul, t.backward() is t.backward(), with
// torch.no_grad() becoming a tg::NoGradGuard scope).
#pragma once

#include "tapegrad/autograd/engine.h"
#include "tapegrad/autograd/function.h"
#include "tapegrad/autograd/grad_mode.h"
#include "tapegrad/autograd/node.h"
#include "tapegrad/core/tensor.h"
#include "tapegrad/core/threads.h"
#include "tapegrad/ops/activation.h"
#include "tapegrad/ops/compare.h"
#include "tapegrad/ops/copy.h"
#include "tapegrad/ops/creation.h"
#include "tapegrad/ops/elementwise.h"
#include "tapegrad/ops/index.h"
#include "tapegrad/ops/loss.h"
#include "tapegrad/ops/matmul.h"
#include "tapegrad/ops/optim.h"
#include "tapegrad/ops/pointwise.h"
#include "tapegrad/ops/reduce.h"
#include "tapegrad/ops/shape.h"
#include "tapegrad/ops/sort.h"
#include "tapegrad/ops/view.h"
