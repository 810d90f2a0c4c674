#include "methods/trainer/interrupt.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>

namespace clipt::trainer {

std::atomic<bool>& interrupt_flag() {
  static std::atomic<bool> flag{false};
  return flag;
}

namespace {
extern "C" void on_sigint(int) {
  if (interrupt_flag().exchange(true)) _exit(130);  // second Ctrl-C: stop now
  const char msg[] =
      "\nclipt: interrupt received; finishing the step and saving a checkpoint (Ctrl-C again to abort)\n";
  (void)!write(2, msg, sizeof(msg) - 1);
}
}  // namespace

std::atomic<bool>& install_interrupt_handler() {
  static bool installed = [] {
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    return true;
  }();
  (void)installed;
  return interrupt_flag();
}

}  // namespace clipt::trainer
