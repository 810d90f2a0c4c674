// Softmax, layer norm and cross-entropy on the CPU, one row per loop iteration, statistics in double.
#include <cmath>
#include <limits>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/cpu/dispatch.h"

namespace clipt::cpu {

void CpuBackend::softmax(const Tensor& x, Tensor& out, bool log, double scale, bool causal) {
  const int64_t n = x.size(-1);
  const int64_t rows = x.numel() / std::max<int64_t>(n, 1);
  const int64_t q = x.dim() >= 2 ? x.size(-2) : 1;
  dispatch_floating(x.dtype(), "softmax", [&]<typename T>() {
    const T* xp = static_cast<const T*>(x.data_ptr());
    T* yp = static_cast<T*>(out.data_ptr());
    parallel_range(rows, n, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T* xr = xp + r * n;
        T* yr = yp + r * n;
        // Keys visible to this row: all, or j <= i + (n − q) under the causal mask.
        const int64_t visible = causal ? std::min<int64_t>(n, (r % q) + (n - q) + 1) : n;
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < visible; ++j) mx = std::max(mx, double(load(xr + j)) * scale);
        // exp in the element's compute type (float unless f64), sums in double.
        using C = compute_t<T>;
        double s = 0;
        for (int64_t j = 0; j < visible; ++j) s += double(std::exp(C(double(load(xr + j)) * scale - mx)));
        const double lse = mx + std::log(s);
        for (int64_t j = 0; j < n; ++j) {
          const double z = double(load(xr + j)) * scale;
          if (j >= visible)
            store(yr + j, log ? -std::numeric_limits<double>::infinity() : 0.0);
          else
            store(yr + j, log ? z - lse : double(std::exp(C(z - lse))));
        }
      }
    });
  });
}

void CpuBackend::softmax_backward(const Tensor& dy, const Tensor& y, Tensor& dx, bool log, double scale) {
  const int64_t n = y.size(-1);
  const int64_t rows = y.numel() / std::max<int64_t>(n, 1);
  dispatch_floating(y.dtype(), "softmax_backward", [&]<typename T>() {
    const T* gp = static_cast<const T*>(dy.data_ptr());
    const T* yp = static_cast<const T*>(y.data_ptr());
    T* dp = static_cast<T*>(dx.data_ptr());
    parallel_range(rows, n, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T *g = gp + r * n, *yr = yp + r * n;
        T* d = dp + r * n;
        double s = 0;
        if (log) {
          for (int64_t j = 0; j < n; ++j) s += double(load(g + j));
          for (int64_t j = 0; j < n; ++j) {
            const double yv = double(load(yr + j));
            const double p = std::isinf(yv) ? 0.0 : std::exp(yv);
            store(d + j, scale * (double(load(g + j)) - p * s));
          }
        } else {
          for (int64_t j = 0; j < n; ++j) s += double(load(g + j)) * double(load(yr + j));
          for (int64_t j = 0; j < n; ++j) store(d + j, scale * double(load(yr + j)) * (double(load(g + j)) - s));
        }
      }
    });
  });
}

namespace {

// Layer norm of each row of x [rows, c]; with `residual`, the row normalised is h = x + residual, added in
// the compute type and rounded to the dtype exactly as the element-wise add, and h is written.
void layer_norm_rows(const Tensor& x, const Tensor* residual, Tensor* h, const Tensor& w, const Tensor& b, double eps,
                     Tensor& y, Tensor& mean, Tensor& rstd, const char* op) {
  const int64_t c = x.size(-1), rows = x.numel() / std::max<int64_t>(c, 1);
  dispatch_floating(x.dtype(), op, [&]<typename T>() {
    const T* xp = static_cast<const T*>(x.data_ptr());
    const T* rp_in = residual ? static_cast<const T*>(residual->data_ptr()) : nullptr;
    T* hp = h ? static_cast<T*>(h->data_ptr()) : nullptr;
    const T* wp = w.defined() ? static_cast<const T*>(w.data_ptr()) : nullptr;
    const T* bp = b.defined() ? static_cast<const T*>(b.data_ptr()) : nullptr;
    T* yp = static_cast<T*>(y.data_ptr());
    dispatch_floating(mean.dtype(), op, [&]<typename S>() {
      S* mp = static_cast<S*>(mean.data_ptr());
      S* rp = static_cast<S*>(rstd.data_ptr());
      parallel_range(rows, c, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {
          const T* xr = xp + r * c;
          if (rp_in) {
            T* hr = hp + r * c;
            const T* res = rp_in + r * c;
            for (int64_t j = 0; j < c; ++j) store(hr + j, load(xr + j) + load(res + j));
            xr = hr;
          }
          double m = 0;
          for (int64_t j = 0; j < c; ++j) m += double(load(xr + j));
          m /= double(c);
          double v = 0;
          for (int64_t j = 0; j < c; ++j) {
            const double d = double(load(xr + j)) - m;
            v += d * d;
          }
          v /= double(c);
          const double rs = 1.0 / std::sqrt(v + eps);
          store(mp + r, m);
          store(rp + r, rs);
          T* yr = yp + r * c;
          for (int64_t j = 0; j < c; ++j) {
            double o = (double(load(xr + j)) - m) * rs;
            if (wp) o *= double(load(wp + j));
            if (bp) o += double(load(bp + j));
            store(yr + j, o);
          }
        }
      });
    });
  });
}

}  // namespace

void CpuBackend::layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, Tensor& y, Tensor& mean,
                            Tensor& rstd) {
  layer_norm_rows(x, nullptr, nullptr, w, b, eps, y, mean, rstd, "layer_norm");
}

void CpuBackend::residual_layer_norm(const Tensor& x, const Tensor& residual, const Tensor& w, const Tensor& b,
                                     double eps, Tensor& h, Tensor& y, Tensor& mean, Tensor& rstd) {
  layer_norm_rows(x, &residual, &h, w, b, eps, y, mean, rstd, "residual_layer_norm");
}

void CpuBackend::layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& mean,
                                     const Tensor& rstd, Tensor& dx, Tensor& dw, Tensor& db) {
  const int64_t c = x.size(-1), rows = x.numel() / std::max<int64_t>(c, 1);
  dispatch_floating(x.dtype(), "layer_norm_backward", [&]<typename T>() {
    dispatch_floating(mean.dtype(), "layer_norm_backward", [&]<typename S>() {
      const T* xp = static_cast<const T*>(x.data_ptr());
      const T* gp = static_cast<const T*>(dy.data_ptr());
      const T* wp = w.defined() ? static_cast<const T*>(w.data_ptr()) : nullptr;
      const S* mp = static_cast<const S*>(mean.data_ptr());
      const S* rp = static_cast<const S*>(rstd.data_ptr());
      if (dx.defined()) {
        T* dp = static_cast<T*>(dx.data_ptr());
        parallel_range(rows, c, [&](int64_t lo, int64_t hi) {
          for (int64_t r = lo; r < hi; ++r) {
            const T *xr = xp + r * c, *gr = gp + r * c;
            const double m = double(mp[r]), rs = double(rp[r]);
            double sum_g = 0, sum_gx = 0;
            for (int64_t j = 0; j < c; ++j) {
              const double gw = double(load(gr + j)) * (wp ? double(load(wp + j)) : 1.0);
              const double xhat = (double(load(xr + j)) - m) * rs;
              sum_g += gw;
              sum_gx += gw * xhat;
            }
            sum_g /= double(c);
            sum_gx /= double(c);
            for (int64_t j = 0; j < c; ++j) {
              const double gw = double(load(gr + j)) * (wp ? double(load(wp + j)) : 1.0);
              const double xhat = (double(load(xr + j)) - m) * rs;
              store(dp + r * c + j, rs * (gw - sum_g - xhat * sum_gx));
            }
          }
        });
      }
      if (dw.defined() || db.defined()) {
        // Columns are independent: each thread owns a range of columns and sums rows in order.
        std::vector<double> acc_w(size_t(c), 0.0), acc_b(size_t(c), 0.0);
        parallel_range(c, rows, [&](int64_t lo, int64_t hi) {
          for (int64_t r = 0; r < rows; ++r) {
            const double m = double(mp[r]), rs = double(rp[r]);
            for (int64_t j = lo; j < hi; ++j) {
              const double g = double(load(gp + r * c + j));
              acc_w[size_t(j)] += g * (double(load(xp + r * c + j)) - m) * rs;
              acc_b[size_t(j)] += g;
            }
          }
        });
        if (dw.defined()) {
          T* p = static_cast<T*>(dw.data_ptr());
          for (int64_t j = 0; j < c; ++j) store(p + j, acc_w[size_t(j)]);
        }
        if (db.defined()) {
          T* p = static_cast<T*>(db.data_ptr());
          for (int64_t j = 0; j < c; ++j) store(p + j, acc_b[size_t(j)]);
        }
      }
    });
  });
}

void CpuBackend::cross_entropy(const Tensor& logits, const Tensor& labels, double smoothing, Tensor& loss,
                               Tensor& lse) {
  const int64_t n = logits.size(0), c = logits.size(1);
  const int64_t* lp = labels.data<int64_t>();
  for (int64_t r = 0; r < n; ++r)
    CLIPT_CHECK(lp[r] < c, "cross_entropy: label {} at row {} is out of range for {} classes", lp[r], r, c);
  dispatch_floating(logits.dtype(), "cross_entropy", [&]<typename T>() {
    dispatch_floating(loss.dtype(), "cross_entropy", [&]<typename L>() {
      const T* xp = static_cast<const T*>(logits.data_ptr());
      L* op = static_cast<L*>(loss.data_ptr());
      L* sp = static_cast<L*>(lse.data_ptr());
      parallel_range(n, c, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {
          const T* xr = xp + r * c;
          double mx = -std::numeric_limits<double>::infinity(), sum_x = 0;
          for (int64_t j = 0; j < c; ++j) {
            mx = std::max(mx, double(load(xr + j)));
            sum_x += double(load(xr + j));
          }
          double s = 0;
          for (int64_t j = 0; j < c; ++j) s += std::exp(double(load(xr + j)) - mx);
          const double l = mx + std::log(s);
          store(sp + r, l);
          if (lp[r] < 0) {
            store(op + r, 0.0);
            continue;
          }
          const double nll = l - double(load(xr + lp[r]));
          const double uniform = l - sum_x / double(c);
          store(op + r, (1.0 - smoothing) * nll + smoothing * uniform);
        }
      });
    });
  });
}

void CpuBackend::cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& lse,
                                        const Tensor& grad_loss, double smoothing, Tensor& dlogits) {
  const int64_t n = logits.size(0), c = logits.size(1);
  const int64_t* lp = labels.data<int64_t>();
  dispatch_floating(logits.dtype(), "cross_entropy_backward", [&]<typename T>() {
    dispatch_floating(lse.dtype(), "cross_entropy_backward", [&]<typename L>() {
      const T* xp = static_cast<const T*>(logits.data_ptr());
      const L* sp = static_cast<const L*>(lse.data_ptr());
      const L* gp = static_cast<const L*>(grad_loss.data_ptr());
      T* dp = static_cast<T*>(dlogits.data_ptr());
      parallel_range(n, c, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {
          const double g = lp[r] < 0 ? 0.0 : double(gp[r]);
          const double l = double(sp[r]);
          for (int64_t j = 0; j < c; ++j) {
            const double p = std::exp(double(load(xp + r * c + j)) - l);
            const double target = (j == lp[r] ? 1.0 - smoothing : 0.0) + smoothing / double(c);
            store(dp + r * c + j, g * (p - target));
          }
        }
      });
    });
  });
}

}  // namespace clipt::cpu
