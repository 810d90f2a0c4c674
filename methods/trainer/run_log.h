// What a run prints and records: every console line also goes to <output>/log.txt; structured records
// (one JSON object per logged step and per epoch) go to <output>/metrics.jsonl, and their numbers as
// TensorBoard scalars to <output>/tensorboard/events.out.tfevents.* (tensorboard_scalars.h).
#pragma once
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/io/tfevents.h"

namespace clipt::trainer {

class RunLog {
 public:
  // An empty folder logs to the console only.
  explicit RunLog(const std::filesystem::path& output_dir = {}, bool quiet = false);
  // Data parallel: rank 0's log is RunLog(output_dir, quiet); the other ranks' writes and prints nothing.
  static RunLog for_rank(const std::filesystem::path& output_dir, bool quiet, bool root);
  static RunLog muted();

  template <typename... Args> void info(fmt::format_string<Args...> f, Args&&... args) {
    line(fmt::format(f, std::forward<Args>(args)...));
  }
  void line(const std::string& text);
  void file_line(const std::string& text);  // to log.txt only (progress lines)
  void record(const nlohmann::json& j);     // one line of metrics.jsonl
  bool quiet() const { return quiet_; }     // progress kept off the console

 private:
  struct Muted {};
  explicit RunLog(Muted) : quiet_(true), muted_(true) {}
  std::mutex mutex_;
  std::ofstream log_, metrics_;
  std::unique_ptr<io::TfEventsWriter> tensorboard_;  // opened on the first scalar
  int64_t last_epoch_ = 0;
  bool quiet_;
  bool muted_ = false;
};

// "1:02:03" for a duration in seconds.
std::string format_duration(double seconds);

}  // namespace clipt::trainer
