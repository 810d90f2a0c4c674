// A small command-line parser shared by the subcommands: `--name value`, `--name=value`, boolean
// `--flag`, positionals, and (for train.py compatibility) trailing `KEY VALUE` config overrides.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace clipt::apps {

class Args {
 public:
  // `flags` are the options that take no value; every other --option takes one.
  Args(const std::vector<std::string>& argv, std::set<std::string> flags = {});

  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  std::string require(const std::string& name) const;  // error naming the option when absent
  int64_t get_int(const std::string& name, int64_t fallback) const;
  double get_double(const std::string& name, double fallback) const;
  bool flag(const std::string& name) const { return flags_set_.count(name) > 0; }
  const std::vector<std::string>& positionals() const { return positionals_; }
  // Errors on any option not in `known` (naming it), so typos never pass silently.
  void check_known(const std::set<std::string>& known) const;

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_, flags_set_;
  std::vector<std::string> positionals_;
};

}  // namespace clipt::apps
