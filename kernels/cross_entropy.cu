// Cross-entropy with integer labels and label smoothing, fused so that no probability tensor exists:
//   forward, one warp per row: an online max/Σexp pass that also sums the logits, then
//     lse = max + log Σ exp(x − max),  loss = (1 − s)(lse − x_label) + s(lse − mean_j x_j),
//   labels < 0 are ignored (loss 0; the ops layer excludes them from the mean);
//   backward, element-wise: dx = g·(exp(x − lse) − (1 − s)[j = label] − s/c).
// Statistics in f32 (f64 for f64 logits). Out-of-range labels are reported through the device error record.
#include "kernels/cross_entropy.h"
#include "kernels/device_common.cuh"
#include "kernels/math.cuh"

namespace clipt::kernels {

namespace {

constexpr int kRowsPerBlock = 8;

template <typename T> using loss_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <typename T> __global__ void __launch_bounds__(kThreads)
    cross_entropy_forward_kernel(const T* x, const int64_t* labels, loss_t<T>* loss, loss_t<T>* lse, int64_t n,
                                 int64_t c, compute_t<T> smoothing, DeviceErrorRecord* errors) {
  using A = compute_t<T>;
  const int lane = threadIdx.x;
  for (int64_t row = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.y; row < n;
       row += int64_t(gridDim.x) * kRowsPerBlock) {
    const T* xr = x + row * c;
    A m = -math::inf_<A>(), s = A(0), sum_x = A(0);
    for (int64_t j = lane; j < c; j += 32) {
      const A v = A(to_compute(xr[j]));
      sum_x += v;
      if (v > m) {
        s = (m == -math::inf_<A>() ? A(0) : s * math::exp_(m - v)) + A(1);
        m = v;
      } else if (v != -math::inf_<A>()) {
        s += math::exp_(v - m);
      }
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      const A om = __shfl_xor_sync(0xffffffffu, m, o), os = __shfl_xor_sync(0xffffffffu, s, o);
      const A nm = om > m ? om : m;
      const A a = m == -math::inf_<A>() ? A(0) : s * math::exp_(m - nm);
      const A b = om == -math::inf_<A>() ? A(0) : os * math::exp_(om - nm);
      m = nm;
      s = a + b;
    }
    sum_x = warp_sum(sum_x);
    if (lane == 0) {
      const A l = m + math::log_(s);
      lse[row] = loss_t<T>(l);
      const int64_t label = labels[row];
      if (label >= c) {
        report_device_error(errors, DeviceErrorCode::CrossEntropyLabel, label, row, c);
        loss[row] = loss_t<T>(0);
      } else if (label < 0) {
        loss[row] = loss_t<T>(0);
      } else {
        const A nll = l - A(to_compute(xr[label]));
        const A uniform = l - sum_x / A(c);
        loss[row] = loss_t<T>((A(1) - smoothing) * nll + smoothing * uniform);
      }
    }
  }
}

template <typename T> __global__ void __launch_bounds__(kThreads)
    cross_entropy_backward_kernel(const T* x, const int64_t* labels, const loss_t<T>* lse, const loss_t<T>* grad, T* dx,
                                  int64_t n, int64_t c, compute_t<T> smoothing) {
  using A = compute_t<T>;
  const int64_t total = n * c;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / c, j = i - r * c;
    const int64_t label = labels[r];
    const A g = (label < 0 || label >= c) ? A(0) : A(grad[r]);
    const A p = math::exp_(A(to_compute(x[i])) - A(lse[r]));
    const A target = (j == label ? A(1) - smoothing : A(0)) + smoothing / A(c);
    dx[i] = from_compute<T>(g * (p - target));
  }
}

}  // namespace

cudaError_t cross_entropy_forward(KDType dtype, const void* logits, const int64_t* labels, void* loss, void* lse,
                                  int64_t n, int64_t c, double smoothing, DeviceErrorRecord* errors,
                                  cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const bool ok = dispatch_float(dtype, [&]<typename T>() {
    using L = loss_t<T>;
    cross_entropy_forward_kernel<T><<<grid_for(n, kRowsPerBlock), dim3(32, kRowsPerBlock), 0, stream>>>(
        static_cast<const T*>(logits), labels, static_cast<L*>(loss), static_cast<L*>(lse), n, c,
        compute_t<T>(smoothing), errors);
  });
  return launch_status(ok);
}

cudaError_t cross_entropy_backward(KDType dtype, const void* logits, const int64_t* labels, const void* lse,
                                   const void* grad_loss, void* dlogits, int64_t n, int64_t c, double smoothing,
                                   cudaStream_t stream) {
  if (n <= 0 || c <= 0) return cudaSuccess;
  const bool ok = dispatch_float(dtype, [&]<typename T>() {
    using L = loss_t<T>;
    cross_entropy_backward_kernel<T><<<grid_for(n * c), kThreads, 0, stream>>>(
        static_cast<const T*>(logits), labels, static_cast<const L*>(lse), static_cast<const L*>(grad_loss),
        static_cast<T*>(dlogits), n, c, compute_t<T>(smoothing));
  });
  return launch_status(ok);
}

}  // namespace clipt::kernels
