#include "apps/cli.h"

#include <fmt/core.h>

#include <exception>
#include <functional>

#include "apps/commands.h"
#include "engine/core/error.h"

namespace clipt::apps {

namespace {

struct Command {
  const char* name;
  const char* summary;
  std::function<int(const CommandArgs&)> run;
};

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"demo", "run the built-in demonstration job", cmd_demo},
      {"train", "train (or evaluate) a prompt-learning method; the peers' train.py command line", cmd_train},
      {"b2n", "the base-to-new protocol over datasets and seeds; prints the paper-style table", cmd_b2n},
      {"eval", "training loss, its sharpness and test accuracy of a trained run", cmd_eval},
      {"dg", "few-shot leave-one-domain-out domain generalisation; prints the per-domain table", cmd_dg},
      {"xd", "cross-dataset transfer / domain shift of a model trained on one dataset; prints the table", cmd_xd},
      {"zeroshot", "zero-shot CLIP accuracy on a dataset with its hand-made template", cmd_zeroshot},
      {"tokenize", "print CLIP token ids of texts", cmd_tokenize},
      {"classify", "zero-shot classify image files with a CLIP model", cmd_classify},
      {"pretrain", "pretrain a small CLIP from scratch on the built-in world", cmd_pretrain},
  };
  return table;
}

void print_usage() {
  fmt::print(stderr, "usage: clipt <command> [options]\n\ncommands:\n");
  for (const auto& c : commands()) fmt::print(stderr, "  {:<10} {}\n", c.name, c.summary);
}

}  // namespace

int run_cli(int argc, char** argv) {
  try {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
      print_usage();
      return argc < 2 ? 2 : 0;
    }
    const std::string name = argv[1];
    const CommandArgs args(argv + 2, argv + argc);
    for (const auto& c : commands())
      if (name == c.name) return c.run(args);
    print_usage();
    fail("unknown command '{}'", name);
  } catch (const Interrupted& e) {
    fmt::print(stderr, "clipt: {}\n", e.what());
    return 130;
  } catch (const Error& e) {
    fmt::print(stderr, "clipt: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "clipt: error: {}\n", e.what());
    return 1;
  }
}

}  // namespace clipt::apps
