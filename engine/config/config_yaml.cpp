// Config::merge_from_file / merge_from_yaml: walks a YAML mapping with yaml-cpp and decodes scalars the way
// yacs sees them after PyYAML (YAML 1.1 resolution of plain scalars, then literal_eval of strings).
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/config/config.h"
#include "engine/core/error.h"

namespace clipt {

namespace {

bool is_one_of(const std::string& s, std::initializer_list<const char*> words) {
  for (const char* w : words)
    if (s == w) return true;
  return false;
}

// PyYAML's implicit resolvers for plain (unquoted) scalars that are not numbers: bools, nulls, .inf/.nan.
std::optional<ConfigValue> resolve_yaml11_word(const std::string& s) {
  if (is_one_of(s, {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})) return ConfigValue(true);
  if (is_one_of(s, {"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})) return ConfigValue(false);
  if (is_one_of(s, {"", "~", "null", "Null", "NULL"})) return ConfigValue();
  if (is_one_of(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})) return ConfigValue(HUGE_VAL);
  if (is_one_of(s, {"-.inf", "-.Inf", "-.INF"})) return ConfigValue(-HUGE_VAL);
  if (is_one_of(s, {".nan", ".NaN", ".NAN"})) return ConfigValue(std::nan(""));
  return std::nullopt;
}

bool is_plain(const YAML::Node& node) { return node.Tag() == "?"; }

int line_of(const YAML::Node& node) { return node.Mark().line + 1; }

}  // namespace

class ConfigYamlMerger {
 public:
  ConfigYamlMerger(Config& cfg, std::string source) : cfg_(cfg), source_(std::move(source)) {}

  void merge_document(const YAML::Node& root) {
    if (!root || root.IsNull()) return;  // an empty file changes nothing
    CLIPT_CHECK(root.IsMap(), "{}: expected a mapping of config keys at the top level (line {})", source_,
                line_of(root));
    merge_mapping(root, "");
  }

 private:
  Config& cfg_;
  std::string source_;

  std::string where(const YAML::Node& key_node) const {
    return fmt::format("in {} (line {})", source_, line_of(key_node));
  }

  void merge_mapping(const YAML::Node& map, const std::string& prefix) {
    for (const auto& entry : map) {
      const YAML::Node& key_node = entry.first;
      const YAML::Node& value = entry.second;
      CLIPT_CHECK(key_node.IsScalar(), "{}: config keys must be plain names (line {})", source_, line_of(key_node));
      const std::string& name = key_node.Scalar();
      CLIPT_CHECK(name != "_BASE_",
                  "{} (line {}): _BASE_ inheritance is not supported (yacs/Dassl configs do not use it); merge "
                  "the base file first with its own --config-file",
                  source_, line_of(key_node));
      const std::string key = prefix.empty() ? name : prefix + "." + name;
      if (cfg_.has(key)) {
        std::string raw;
        ConfigValue v = decode(value, key, key_node, &raw);
        cfg_.assign(key, std::move(v), value.IsScalar() ? &raw : nullptr, where(key_node));
      } else if (cfg_.has_group(key)) {
        if (value.IsNull()) continue;  // an empty group
        CLIPT_CHECK(value.IsMap(), "config key {} {}: expected a mapping of keys under it (e.g. {}), got {}", key,
                    where(key_node), cfg_.first_key_under(key), describe(value));
        merge_mapping(value, key);
      } else {
        // Name the full path down to a value, so the suggestion is a real key (TRAINER.KGCOOP.W, not TRAINER.KGCOOP).
        std::string full = key;
        YAML::Node inner = value;
        while (inner.IsMap() && inner.size() > 0) {
          const auto first = *inner.begin();
          if (!first.first.IsScalar()) break;
          full += "." + first.first.Scalar();
          inner = first.second;
        }
        cfg_.fail_unknown(full, where(key_node));
      }
    }
  }

  static std::string describe(const YAML::Node& node) {
    if (node.IsMap()) return "a mapping";
    if (node.IsSequence()) return "a list";
    return fmt::format("'{}'", node.Scalar());
  }

  // One YAML value as yacs receives it. `raw` gets the scalar text (used for string keys).
  ConfigValue decode(const YAML::Node& node, const std::string& key, const YAML::Node& key_node, std::string* raw) {
    if (node.IsNull()) return ConfigValue();
    if (node.IsScalar()) {
      *raw = node.Scalar();
      if (is_plain(node))
        if (auto word = resolve_yaml11_word(*raw)) return *word;
      auto literal = parse_python_literal(*raw);
      return literal ? *literal : ConfigValue(*raw);
    }
    if (node.IsSequence()) {
      std::vector<ConfigValue> items;
      for (const auto& element : node) {
        CLIPT_CHECK(element.IsScalar() || element.IsNull(),
                    "config key {} {}: list elements must be plain values, got {}", key, where(key_node),
                    describe(element));
        items.push_back(decode_element(element));
      }
      return ConfigValue::list(std::move(items));
    }
    fail("config key {} {}: expected {}, got a mapping", key, where(key_node), kind_name(cfg_.get(key).kind()));
  }

  // List elements are typed by YAML alone (yacs does not literal_eval inside lists): quoted -> string, plain
  // -> bool/null/number when it reads as one, else string.
  static ConfigValue decode_element(const YAML::Node& node) {
    if (node.IsNull()) return ConfigValue();
    const std::string& s = node.Scalar();
    if (!is_plain(node)) return ConfigValue(s);
    if (auto word = resolve_yaml11_word(s)) return *word;
    auto literal = parse_python_literal(s);
    if (literal && (literal->kind() == ConfigValue::Kind::Int || literal->kind() == ConfigValue::Kind::Float))
      return *literal;
    return ConfigValue(s);
  }
};

void Config::merge_from_yaml(std::string_view yaml_text, const std::string& source) {
  CLIPT_CHECK(!frozen_, "config is frozen: cannot merge {}", source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    fail("{} (line {}, column {}): malformed YAML: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  all_or_nothing([&] { ConfigYamlMerger(*this, source).merge_document(root); });
}

void Config::merge_from_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  CLIPT_CHECK(f.good(), "cannot open config file {}: {}", path.string(), std::strerror(errno));
  std::stringstream text;
  text << f.rdbuf();
  CLIPT_CHECK(!f.bad(), "cannot read config file {}: {}", path.string(), std::strerror(errno));
  merge_from_yaml(text.str(), path.string());
}

}  // namespace clipt
