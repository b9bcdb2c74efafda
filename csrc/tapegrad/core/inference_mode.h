// Whether tensors made now are inference tensors (set by tapegrad.inference_mode(), per thread).
// In core, as PyTorch keeps its InferenceMode in c10/core: every TensorImpl reads it when made.
// An inference tensor may not be saved for backward, and may be written in place only while
// inference mode is on (autograd/node.cpp, autograd/inplace.cpp), so that nothing recorded
// outside can depend on a tensor whose writes no version counter follows.
#pragma once

namespace tg {

struct InferenceMode {
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

}  // namespace tg
