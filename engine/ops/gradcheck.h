// gradcheck: compares the tape's gradients with central finite differences in f64. The function's
// output is reduced to a scalar through a fixed random projection so every output element matters.
#pragma once
#include <functional>
#include <string>

#include "engine/autograd/node.h"

namespace clipt {

struct GradcheckResult {
  bool ok = true;
  std::string message;  // the worst mismatch, when !ok
};

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-4;
  uint64_t seed = 1234;
};

// `inputs` must be f64 tensors; those with requires_grad are checked. f may build views of its inputs
// (transposes, slices) to exercise non-contiguous paths.
GradcheckResult gradcheck(const std::function<Tensor(const TensorList&)>& f, const TensorList& inputs,
                          GradcheckOptions options = {});

}  // namespace clipt
