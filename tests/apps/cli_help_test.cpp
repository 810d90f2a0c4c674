// `clipt <command> --help`, `-h` and `clipt help <command>`: every command in the table prints its own
// usage on stdout and exits 0 (before any option parsing, so no "option --help needs a value").
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "apps/cli.h"
#include "data/dataset.h"
#include "data/world/world_datasets.h"
#include "engine/cpu/blas_kernels.h"
#include "methods/method.h"

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

namespace clipt::apps {
namespace {

CliResult run_clipt_err(std::vector<std::string> args, std::string* err) {
  testing::internal::CaptureStderr();
  CliResult r = run_clipt(std::move(args));
  *err = testing::internal::GetCapturedStderr();
  return r;
}

TEST(CliList, NamesEveryRegisteredMethodAndDataset) {
  const CliResult methods_out = run_clipt({"list", "methods"});
  EXPECT_EQ(methods_out.exit_code, 0);
  for (const std::string& m : methods::method_names())
    EXPECT_NE(("\n" + methods_out.out).find("\n" + m + " "), std::string::npos) << m;
  size_t lines = std::count(methods_out.out.begin(), methods_out.out.end(), '\n');
  EXPECT_EQ(lines, methods::method_names().size());
  const CliResult datasets_out = run_clipt({"list", "datasets"});
  EXPECT_EQ(datasets_out.exit_code, 0);
  world::register_world_datasets();
  EXPECT_EQ(std::count_if(datasets_out.out.begin(), datasets_out.out.end(), [](char c) { return c == '\n'; }),
            int64_t(data::dataset_registry().size()));
  for (const auto& d : data::dataset_registry())
    EXPECT_NE(("\n" + datasets_out.out).find("\n" + d.name + " "), std::string::npos) << d.name;
  const CliResult configs_out = run_clipt({"list", "configs"});
  EXPECT_EQ(configs_out.exit_code, 0);
  EXPECT_NE(configs_out.out.find("configs/world/CoOp.yaml\n"), std::string::npos) << configs_out.out;
  std::string err;
  EXPECT_EQ(run_clipt_err({"list", "things"}, &err).exit_code, 1);
  EXPECT_NE(err.find("unknown list 'things'"), std::string::npos) << err;
}

TEST(CliList, UnknownCommandSuggestsTheClosest) {
  std::string err;
  const CliResult r = run_clipt_err({"trian", "--trainer", "CoOp"}, &err);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(err.find("unknown command 'trian'; did you mean 'train'?"), std::string::npos) << err;
  run_clipt_err({"reprot"}, &err);
  EXPECT_NE(err.find("did you mean 'report'?"), std::string::npos) << err;
}

TEST(CliList, Version) {
  const CliResult r = run_clipt({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("clipt 0.", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("OpenBLAS kernels " + cpu::blas_core_name()), std::string::npos) << r.out;
}

}  // namespace
}  // namespace clipt::apps

#include <fstream>
#include <set>
#include <sstream>

#include "tests/common/test_util.h"

namespace clipt::apps {
namespace {

// The README's table of commands (the rows that follow its "| command |" header without a break) names
// every command of `clipt --help`, once, and nothing else.
TEST(CliHelp, ReadmeCommandTableMatchesTheCommands) {
  std::ifstream in(test::source_dir() / "README.md");
  ASSERT_TRUE(in.good());
  std::vector<std::string> rows;
  bool in_table = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("| command | what it does |")) {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (!line.starts_with("|")) break;  // the table ends at its first other line (a blank line ends it too)
    const auto open = line.find("`clipt "), close = line.find('`', open + 1);
    if (open != std::string::npos && close != std::string::npos)
      rows.push_back(line.substr(open + 7, close - open - 7));
  }
  std::vector<std::string> names = command_names();
  std::sort(names.begin(), names.end());
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows, names);
}

}  // namespace
}  // namespace clipt::apps
