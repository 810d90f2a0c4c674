#include "engine/runtime/context.h"

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "engine/core/capture_guard.h"
#include "engine/core/error.h"
#include "engine/runtime/cuda_check.h"
#include "engine/runtime/device_errors.h"

namespace clipt::cuda {

namespace {

struct DeviceCount {
  int count = 0;
  std::string reason;
};

const DeviceCount& probe() {
  static const DeviceCount result = [] {
    DeviceCount r;
    const cudaError_t e = cudaGetDeviceCount(&r.count);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      r.count = 0;
      r.reason = fmt::format("{} ({})", cudaGetErrorName(e), cudaGetErrorString(e));
    } else if (r.count == 0) {
      r.reason = "no CUDA device is visible";
    }
    if (r.count > kMaxDevices) r.count = kMaxDevices;
    return r;
  }();
  return result;
}

std::array<std::once_flag, kMaxDevices> g_init_flags;
std::array<std::atomic<DeviceContext*>, kMaxDevices> g_contexts{};

thread_local std::array<cudaStream_t, kMaxDevices> t_streams{};

DeviceContext* create_context(int device) {
  auto* ctx = new DeviceContext();  // intentionally never deleted (see context.h)
  ctx->device = device;
  DeviceGuard guard(device);
  cudaDeviceProp prop{};
  CLIPT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  ctx->name = prop.name;
  ctx->sm_count = prop.multiProcessorCount;
  CLIPT_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&ctx->pool, device));
  // Keep freed blocks in the pool instead of returning them to the driver at every synchronisation: the
  // steady-state training step then allocates nothing from the driver.
  uint64_t threshold = std::numeric_limits<uint64_t>::max();
  CLIPT_CUDA_CHECK(cudaMemPoolSetAttribute(ctx->pool, cudaMemPoolAttrReleaseThreshold, &threshold));
  CLIPT_CUDA_CHECK(cudaStreamCreateWithFlags(&ctx->default_stream, cudaStreamNonBlocking));
  CLIPT_CUBLAS_CHECK(cublasLtCreate(&ctx->lt));
  CLIPT_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ctx->errors), sizeof(kernels::DeviceErrorRecord)));
  CLIPT_CUDA_CHECK(cudaMemset(ctx->errors, 0, sizeof(kernels::DeviceErrorRecord)));
  CLIPT_CUDA_CHECK(cudaDeviceSynchronize());  // the memset ran on the legacy stream
  return ctx;
}

}  // namespace

int device_count() { return probe().count; }

std::string unavailable_reason() { return probe().reason; }

void check_device_index(int device) {
  const int n = device_count();
  if (n == 0) fail("CUDA is not available: {}", unavailable_reason());
  CLIPT_CHECK(device >= 0 && device < n, "device cuda:{} does not exist ({} CUDA device(s) visible)", device, n);
}

DeviceContext& context(int device) {
  check_device_index(device);
  const size_t i = size_t(device);
  std::call_once(g_init_flags[i], [&] { g_contexts[i].store(create_context(device)); });
  return *g_contexts[i].load();
}

bool context_initialised(int device) {
  return device >= 0 && device < kMaxDevices && g_contexts[size_t(device)].load() != nullptr;
}

DeviceGuard::DeviceGuard(int device) {
  int current = -1;
  CLIPT_CUDA_CHECK(cudaGetDevice(&current));
  if (current != device) {
    CLIPT_CUDA_CHECK(cudaSetDevice(device));
    previous_ = current;
  }
}

DeviceGuard::~DeviceGuard() {
  if (previous_ >= 0) (void)cudaSetDevice(previous_);
}

cudaStream_t current_stream(int device) {
  if (device < 0 || device >= kMaxDevices) check_device_index(device);
  const cudaStream_t s = t_streams[size_t(device)];
  return s != nullptr ? s : context(device).default_stream;
}

void set_current_stream(int device, cudaStream_t stream) {
  check_device_index(device);
  t_streams[size_t(device)] = stream;
}

StreamGuard::StreamGuard(int device, cudaStream_t stream) : device_(device), previous_(nullptr) {
  check_device_index(device);
  previous_ = t_streams[size_t(device)];
  t_streams[size_t(device)] = stream;
}

StreamGuard::~StreamGuard() { t_streams[size_t(device_)] = previous_; }

void* gemm_workspace(int device, cudaStream_t stream) {
  DeviceContext& ctx = context(device);
  std::lock_guard<std::mutex> lock(ctx.mutex);
  auto it = ctx.gemm_workspaces.find(stream);
  if (it != ctx.gemm_workspaces.end()) return it->second;
  DeviceGuard guard(device);
  void* p = nullptr;
  CLIPT_CUDA_CHECK(cudaMalloc(&p, kGemmWorkspaceBytes));
  ctx.gemm_workspaces.emplace(stream, p);
  return p;
}

void synchronize(int device) {
  refuse_during_any_capture("a device synchronisation");
  DeviceGuard guard(device);
  const cudaStream_t s = current_stream(device);
  CLIPT_CUDA_CHECK(cudaStreamSynchronize(s));
  raise_device_errors(device, s);
}

bool sync_after_launch() {
  static const bool on = [] {
    const char* v = std::getenv("CLIPT_CUDA_SYNC");
    return v != nullptr && std::strcmp(v, "0") != 0 && v[0] != '\0';
  }();
  return on;
}

}  // namespace clipt::cuda
