// The clipt command line: `clipt <command> [options]`. Each command lives in its own apps/<command>.cpp
// and registers itself, with its usage text, in the table in cli.cpp.
#pragma once
#include <string>
#include <vector>

namespace clipt::apps {

// `clipt <command> --help` (or -h, or `clipt help <command>`) prints the command's usage and exits 0.
int run_cli(int argc, char** argv);

// The commands' names, in the order `clipt --help` lists them.
std::vector<std::string> command_names();

}  // namespace clipt::apps
