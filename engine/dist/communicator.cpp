#include "engine/dist/communicator.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "engine/ops/ops.h"
#include "engine/profile/profiler.h"

namespace clipt::dist {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double default_timeout() {
  if (const char* v = std::getenv("CLIPT_COLLECTIVE_TIMEOUT")) {
    char* end = nullptr;
    const double s = std::strtod(v, &end);
    if (end != v && *end == '\0' && s > 0) return s;
    fmt::print(stderr, "clipt: warning: CLIPT_COLLECTIVE_TIMEOUT='{}' is not a positive number of seconds; using 300\n",
               v);
  }
  return 300.0;
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// The dtype a reduction runs in: f64 stays f64, integers reduce as i64, other floats as f32.
DType reduction_dtype(const std::vector<Tensor>& ts) {
  bool all_f64 = true, any_int = false, any_float = false;
  for (const Tensor& t : ts) {
    all_f64 = all_f64 && t.dtype() == DType::F64;
    (is_floating(t.dtype()) ? any_float : any_int) = true;
  }
  CLIPT_CHECK(!(any_int && any_float), "all_reduce: one bucket cannot mix integer and floating tensors");
  return any_int ? DType::I64 : all_f64 ? DType::F64 : DType::F32;
}

}  // namespace

Communicator::Communicator(int rank, int world_size, int local_rank)
    : rank_(rank), world_size_(world_size), local_rank_(local_rank), timeout_s_(default_timeout()) {}

void Communicator::set_timeout(double seconds) {
  CLIPT_CHECK(seconds > 0, "collective timeout must be positive, got {} s", seconds);
  timeout_s_ = seconds;
}

// The collective itself is one profile record (on the device's stream with NCCL), in the communication phase.
template <typename F> void Communicator::timed(const char* name, int64_t bytes, F&& f) {
  profile::PhaseScope phase(profile::Phase::Communication);
  const double cpu0 = thread_cpu_seconds();
  const auto t0 = Clock::now();
  if (measure_wait_) raw_barrier();
  const auto t1 = Clock::now();
  {
    profile::OpScope op(name, DType::U8, double(bytes), /*device_timed=*/backend() == "nccl");
    f();
  }
  const auto t2 = Clock::now();
  stats_.calls += 1;
  stats_.bytes += bytes;
  stats_.wait_seconds += std::chrono::duration<double>(t1 - t0).count();
  stats_.comm_seconds += std::chrono::duration<double>(t2 - t1).count();
  stats_.cpu_seconds += thread_cpu_seconds() - cpu0;
  if (observer_) observer_(name, std::chrono::duration<double>(t2 - t0).count());
}

void Communicator::wait_done(const char* what, const std::function<bool()>& done) {
  const auto start = Clock::now();
  // Spin briefly (small collectives finish in microseconds), then poll with short sleeps so that a
  // rank waiting for a slower one leaves the core to the data loader and to other ranks.
  for (int spins = 0;; ++spins) {
    if (done()) return;
    if (spins > 200) std::this_thread::sleep_for(std::chrono::microseconds(50));
    if ((spins & 63) == 0 && seconds_since(start) > timeout_s_) {
      abort_job(
          fmt::format("collective {} did not complete within {:g} s: another rank failed, stopped or is stuck "
                      "(CLIPT_COLLECTIVE_TIMEOUT or DIST.TIMEOUT set the limit); aborting the job",
                      what, timeout_s_));
      kill_job(1);  // one rank: abort_job returns, but a stuck collective cannot be abandoned
    }
  }
}

void Communicator::abort_job(const std::string& message, int code) {
  if (world_size_ == 1) return;
  std::fflush(stdout);
  fmt::print(stderr, "clipt: error on rank {} of {}: {}\n", rank_, world_size_, message);
  std::fflush(stderr);
  kill_job(code);
}

void Communicator::all_reduce(std::vector<Tensor>& tensors, ReduceOp op) {
  if (tensors.empty()) return;
  const Device device = tensors[0].device();
  for (const Tensor& t : tensors)
    CLIPT_CHECK(t.device() == device, "all_reduce: tensors on {} and {} in one bucket", device.str(), t.device().str());
  const DType dtype = reduction_dtype(tensors);
  CLIPT_CHECK(!(op == ReduceOp::Mean && dtype == DType::I64), "all_reduce: the mean of integer tensors is not exact");
  if (world_size_ == 1) return;
  profile::PhaseScope phase(profile::Phase::Communication);  // the bucketing copies count as communication
  NoGrad ng;
  const Device staging = staging_device(device);
  std::vector<Tensor> flat;
  flat.reserve(tensors.size());
  for (const Tensor& t : tensors) flat.push_back(t.detach().reshape({-1}).to(dtype).to(staging));
  Tensor bucket = flat.size() == 1 ? flat[0].contiguous().clone() : cat(flat, 0);
  timed("all_reduce", int64_t(bucket.nbytes()), [&] {
    raw_all_reduce(bucket.data_ptr(), bucket.numel(), dtype, op == ReduceOp::Mean ? ReduceOp::Sum : op, staging);
  });
  if (op == ReduceOp::Mean) bucket = mul(bucket, 1.0 / double(world_size_));
  int64_t offset = 0;
  for (Tensor& t : tensors) {
    t.copy_(bucket.narrow(0, offset, t.numel()).reshape(t.shape()));
    offset += t.numel();
  }
}

void Communicator::all_reduce(Tensor& tensor, ReduceOp op) {
  std::vector<Tensor> one{tensor};
  all_reduce(one, op);
}

std::vector<double> Communicator::all_reduce(std::vector<double> values, ReduceOp op) {
  if (values.empty() || world_size_ == 1) return values;
  std::vector<Tensor> t{Tensor::from_vector(values, {int64_t(values.size())})};
  all_reduce(t, op);
  return t[0].to_vector<double>();
}

double Communicator::all_reduce(double value, ReduceOp op) { return all_reduce(std::vector<double>{value}, op)[0]; }

Tensor Communicator::all_gather(const Tensor& local) {
  NoGrad ng;
  if (world_size_ == 1) return local.detach().contiguous().clone();
  profile::PhaseScope phase(profile::Phase::Communication);
  const Device staging = staging_device(local.device());
  Tensor send = local.detach().to(staging).contiguous();
  Shape shape = local.shape();
  CLIPT_CHECK(!shape.empty(), "all_gather: needs at least one dimension, got a scalar");
  shape[0] *= world_size_;
  Tensor recv = Tensor::empty(shape, local.dtype(), staging);
  timed("all_gather", int64_t(send.nbytes()),
        [&] { raw_all_gather(send.data_ptr(), recv.data_ptr(), send.numel(), send.dtype(), staging); });
  return recv.to(local.device());
}

Tensor Communicator::reduce_scatter(const Tensor& full) {
  NoGrad ng;
  CLIPT_CHECK(full.dim() >= 1 && full.size(0) % world_size_ == 0,
              "reduce_scatter: dim 0 of {} must be divisible by the world size {}", describe(full), world_size_);
  if (world_size_ == 1) return full.detach().contiguous().clone();
  profile::PhaseScope phase(profile::Phase::Communication);
  const DType dtype = reduction_dtype({full});
  const Device staging = staging_device(full.device());
  Tensor send = full.detach().to(dtype).to(staging).contiguous();
  Shape shape = full.shape();
  shape[0] /= world_size_;
  Tensor recv = Tensor::empty(shape, dtype, staging);
  timed("reduce_scatter", int64_t(send.nbytes()),
        [&] { raw_reduce_scatter(send.data_ptr(), recv.data_ptr(), recv.numel(), dtype, staging); });
  return recv.to(full.dtype()).to(full.device());
}

void Communicator::broadcast(std::vector<Tensor>& tensors, int root) {
  CLIPT_CHECK(root >= 0 && root < world_size_, "broadcast: root {} outside the world of {} ranks", root, world_size_);
  if (tensors.empty() || world_size_ == 1) return;
  profile::PhaseScope phase(profile::Phase::Communication);
  NoGrad ng;
  // One bucket per (dtype, device) run of the list; parameters (all f32 on one device) are one call.
  size_t begin = 0;
  while (begin < tensors.size()) {
    size_t end = begin + 1;
    while (end < tensors.size() && tensors[end].dtype() == tensors[begin].dtype() &&
           tensors[end].device() == tensors[begin].device())
      ++end;
    const Device staging = staging_device(tensors[begin].device());
    std::vector<Tensor> flat;
    for (size_t i = begin; i < end; ++i) flat.push_back(tensors[i].detach().reshape({-1}).to(staging));
    Tensor bucket = end - begin == 1 ? flat[0].contiguous().clone() : cat(flat, 0);
    timed("broadcast", int64_t(bucket.nbytes()),
          [&] { raw_broadcast(bucket.data_ptr(), bucket.numel(), bucket.dtype(), root, staging); });
    int64_t offset = 0;
    for (size_t i = begin; i < end; ++i) {
      tensors[i].copy_(bucket.narrow(0, offset, tensors[i].numel()).reshape(tensors[i].shape()));
      offset += tensors[i].numel();
    }
    begin = end;
  }
}

void Communicator::barrier() {
  if (world_size_ == 1) return;
  timed("barrier", 0, [&] { raw_barrier(); });
}

}  // namespace clipt::dist
