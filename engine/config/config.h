// A yacs-compatible configuration tree, so that the YAML files and trailing `KEY VALUE` overrides of the
// PyTorch/Dassl prompt-learning code load unchanged. It knows no key itself: every key is defined up front
// with a default whose kind (None, bool, int, float, string, list) is the key's type, and everything merged
// later is checked against it.
//
// Semantics follow yacs' CfgNode (merge_from_file / merge_from_list / freeze):
//  - a key that was not defined is an error naming it, where it came from (file and line, or the command
//    line) and the nearest defined key;
//  - values are decoded as yacs decodes them: every string (a command-line token, or a string scalar in a
//    YAML file) goes through Python's literal_eval and stays a string when that fails, so `16` is an int,
//    `1e-5` a float, `(224, 224)` a list, `None` is None and `bicubic` a string; plain YAML scalars are first
//    resolved as PyYAML (YAML 1.1) does: true/True/yes/on..., null/~, .inf/.nan;
//  - a value must have the key's kind; list and tuple are one kind; None is accepted for any key and a key
//    whose default is None accepts any kind (yacs' rules).
// Deliberate leniencies over yacs (each can only turn a yacs error into the obvious value):
//  - an int is accepted where a float is expected (`OPTIM.LR 1`, `SPLE.STACK.WEIGHT_FOR_NEW 0`);
//  - a string key keeps the raw text when it would decode to another kind (`DATASET.NAME 101` -> "101"), so
//    dumped configs always reload;
//  - `true`/`false` in any case are accepted on the command line for a bool key (yacs wants True/False);
//  - a key may accept extra kinds declared at definition (the peers' TRAINER.COOP.CTX_INIT is a string in
//    CoOp but a bool in KgCoOp/ProGrad/GCSCoOp configs);
//  - an empty group in a YAML file (`TRAINER:` with nothing under it) is a no-op; dotted keys
//    (`OPTIM.LR: 0.1`) are accepted in YAML files.
// And stricter: list elements must match the kind of the default's elements (an int list stays ints), and
// `_BASE_` inheritance (detectron2/fvcore, not yacs or Dassl) is rejected with a clear message.
#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/config/config_value.h"

namespace clipt {

class Config {
 public:
  using Kind = ConfigValue::Kind;

  // Defines a key (`A.B.C`) with its default; the default's kind is the key's type, `also_accepts` widens it.
  void define(const std::string& key, ConfigValue default_value, std::vector<Kind> also_accepts = {});

  bool has(std::string_view key) const;        // a defined leaf key
  bool has_group(std::string_view key) const;  // a prefix of defined keys, e.g. "OPTIM" or "DATALOADER.TEST"
  const std::vector<std::string>& keys() const { return order_; }  // leaf keys in definition order

  // Typed access by dotted key. Unknown keys and other kinds throw clipt::Error naming the key.
  const ConfigValue& get(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  double get_float(std::string_view key) const;  // int values are returned as floats
  const std::string& get_string(std::string_view key) const;
  std::vector<double> get_list_float(std::string_view key) const;
  std::vector<int64_t> get_list_int(std::string_view key) const;
  std::vector<std::string> get_list_string(std::string_view key) const;

  // Sets one key with the same checks as a merge (how the CLI applies --root, --seed, --output-dir...).
  void set(const std::string& key, ConfigValue value);
  // Merges are all-or-nothing: a merge that throws leaves the config as it was.
  // yacs' merge_from_file: a YAML mapping of keys; errors name the file and line.
  void merge_from_file(const std::filesystem::path& path);
  // The same from YAML text; `source` names it in errors (a file name, "embedded config"...).
  void merge_from_yaml(std::string_view yaml_text, const std::string& source);
  // yacs' merge_from_list: {"KEY", "VALUE", "KEY", "VALUE", ...} as they follow the command line.
  void merge_from_list(const std::vector<std::string>& key_value_pairs);

  // The effective config as YAML: keys nested in definition order, every value reloadable unchanged.
  std::string dump() const;
  // Writes dump() to `path` atomically (temporary file + rename).
  void save(const std::filesystem::path& path) const;

  void freeze() { frozen_ = true; }
  void defrost() { frozen_ = false; }
  bool frozen() const { return frozen_; }

  // The defined key closest to `unknown`: a case-insensitive match, else an acronym of the last component
  // within the same group (OPTIM.LEARNING_RATE -> OPTIM.LR), else the smallest edit distance.
  std::string nearest_key(std::string_view unknown) const;

 private:
  struct Leaf {
    ConfigValue value;
    Kind kind;  // the default's kind
    std::vector<Kind> also_accepts;
    std::vector<Kind> element_kinds;  // the default list's element kind when uniform, else empty
  };

  const Leaf& leaf(std::string_view key) const;
  // Checks `value` against the key's type (see the rules above) and stores it. `raw_text` is the text the
  // value was decoded from when there was one; `where` completes "config key K <where>: ...".
  void assign(const std::string& key, ConfigValue value, const std::string* raw_text, const std::string& where);
  void all_or_nothing(const std::function<void()>& merge);
  [[noreturn]] void fail_unknown(const std::string& key, const std::string& where) const;
  std::string first_key_under(const std::string& group) const;

  std::vector<std::string> order_;
  std::unordered_map<std::string, Leaf> leaves_;
  std::unordered_set<std::string> groups_;
  bool frozen_ = false;

  friend class ConfigYamlMerger;
};

}  // namespace clipt
