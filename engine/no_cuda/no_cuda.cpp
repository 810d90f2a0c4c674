// Built only when clipt is compiled without CUDA: every CUDA entry point explains why it cannot run.
#include "engine/core/backend.h"

namespace clipt {

namespace {
[[noreturn]] void no_cuda() {
  fail("this clipt was built without CUDA (nvcc was not found at configure time); use --device cpu");
}
}  // namespace

Backend& cuda_backend() { no_cuda(); }
bool cuda_available() { return false; }
int cuda_device_count() { return 0; }
std::shared_ptr<Storage> cuda_allocate(size_t, int) { no_cuda(); }
void cuda_copy_between(const Tensor&, Tensor&) { no_cuda(); }

}  // namespace clipt
