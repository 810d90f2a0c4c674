// The engine's one exception type. Messages name the op or file and the offending values; the CLI turns
// an Error into one line on stderr and a non-zero exit. Libraries never abort or exit.
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>

namespace clipt {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Raised when the user interrupts (Ctrl-C) so loops can unwind, checkpoint and exit cleanly.
class Interrupted : public Error {
 public:
  explicit Interrupted(const std::string& what) : Error(what) {}
};

template <typename... Args> [[noreturn]] inline void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace clipt

// CLIPT_CHECK(cond, "op: shapes {} and {} differ", a, b) throws clipt::Error when cond is false.
#define CLIPT_CHECK(cond, ...)               \
  do {                                       \
    if (!(cond)) ::clipt::fail(__VA_ARGS__); \
  } while (0)
