// The clipt command line: `clipt <command> [options]`. Each command lives in its own apps/<command>.cpp
// and registers itself in the table in cli.cpp.
#pragma once
#include <string>
#include <vector>

namespace clipt::apps {

int run_cli(int argc, char** argv);

}  // namespace clipt::apps
