// The subcommands of `clipt`. Each is implemented in apps/<name>.cpp and listed in cli.cpp.
#pragma once
#include <string>
#include <vector>

namespace clipt::apps {

using CommandArgs = std::vector<std::string>;  // arguments after the command name

int cmd_demo(const CommandArgs& args);
int cmd_train(const CommandArgs& args);
int cmd_tokenize(const CommandArgs& args);
int cmd_classify(const CommandArgs& args);
int cmd_pretrain(const CommandArgs& args);
int cmd_b2n(const CommandArgs& args);
int cmd_zeroshot(const CommandArgs& args);
int cmd_dg(const CommandArgs& args);
int cmd_xd(const CommandArgs& args);
int cmd_eval(const CommandArgs& args);
int cmd_profile(const CommandArgs& args);
int cmd_scale(const CommandArgs& args);
int cmd_report(const CommandArgs& args);
int cmd_list(const CommandArgs& args);

}  // namespace clipt::apps
