// Ctrl-C handling for long runs: the first SIGINT sets a flag that the training loop and the data
// loader poll (the run then checkpoints and exits cleanly); a second SIGINT terminates immediately.
#pragma once
#include <atomic>

namespace clipt::trainer {

// Installs the handler (idempotent) and returns the flag it sets.
std::atomic<bool>& install_interrupt_handler();
std::atomic<bool>& interrupt_flag();

}  // namespace clipt::trainer
