// `clipt <command> --help`, `-h` and `clipt help <command>`: every command in the table prints its own
// usage on stdout and exits 0 (before any option parsing, so no "option --help needs a value").
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "apps/cli.h"

namespace clipt::apps {
namespace {

struct CliResult {
  int exit_code = 0;
  std::string out;
};

CliResult run_clipt(std::vector<std::string> args) {
  args.insert(args.begin(), "clipt");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStdout();
  CliResult r;
  r.exit_code = run_cli(int(argv.size()), argv.data());
  std::fflush(stdout);
  r.out = testing::internal::GetCapturedStdout();
  return r;
}

TEST(CliHelp, EveryCommandPrintsItsUsage) {
  const std::vector<std::string> names = command_names();
  ASSERT_GE(names.size(), 10u);
  for (const std::string& name : names) {
    const CliResult help = run_clipt({name, "--help"});
    EXPECT_EQ(help.exit_code, 0) << name;
    EXPECT_EQ(help.out.rfind("usage: clipt " + name + " ", 0), 0u) << name << ":\n" << help.out;
    // The short flag and `clipt help <command>` print the same text.
    const CliResult short_flag = run_clipt({name, "-h"});
    EXPECT_EQ(short_flag.exit_code, 0) << name;
    EXPECT_EQ(short_flag.out, help.out) << name;
    const CliResult help_command = run_clipt({"help", name});
    EXPECT_EQ(help_command.exit_code, 0) << name;
    EXPECT_EQ(help_command.out, help.out) << name;
  }
}

TEST(CliHelp, UsagesDiffer) {
  // Each command has its own text, not a shared one.
  EXPECT_NE(run_clipt({"dg", "--help"}).out, run_clipt({"xd", "--help"}).out);
  EXPECT_NE(run_clipt({"train", "--help"}).out, run_clipt({"b2n", "--help"}).out);
}

TEST(CliHelp, HelpAfterOtherOptions) {
  // --help at the end of a command line is not taken as an option missing its value.
  const CliResult r = run_clipt({"dg", "--trainer", "CoOp", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("usage: clipt dg ", 0), 0u) << r.out;
}

TEST(CliHelp, OverviewListsEveryCommand) {
  const CliResult r = run_clipt({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const std::string& name : command_names()) EXPECT_NE(r.out.find("  " + name + " "), std::string::npos) << name;
  EXPECT_EQ(run_clipt({"help"}).out, r.out);
}

TEST(CliHelp, UnknownCommand) {
  EXPECT_EQ(run_clipt({"help", "no-such-command"}).exit_code, 1);
  EXPECT_EQ(run_clipt({"no-such-command", "--help"}).exit_code, 1);
}

}  // namespace
}  // namespace clipt::apps
