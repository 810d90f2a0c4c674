// Entry point of the clipt command line. Errors become one line on stderr and a non-zero exit.
#include <cstdio>

#include "apps/cli.h"

int main(int argc, char** argv) { return clipt::apps::run_cli(argc, argv); }
