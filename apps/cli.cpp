#include "apps/cli.h"

#include <fmt/core.h>

#include <exception>

#include "engine/core/error.h"

namespace clipt::apps {

int run_cli(int argc, char** argv) {
  try {
    if (argc < 2) {
      fmt::print(stderr, "usage: clipt <command> [options]\n");
      return 2;
    }
    fail("unknown command '{}'", argv[1]);
  } catch (const Error& e) {
    fmt::print(stderr, "clipt: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "clipt: error: {}\n", e.what());
    return 1;
  }
}

}  // namespace clipt::apps
