// One typed config leaf value as yacs holds it: None, bool, int, float, string, or a flat list of those
// (yacs' list and tuple are one kind here). Also the parser for yacs' value syntax: yacs runs every
// command-line value, and every string read from a YAML file, through Python's ast.literal_eval and keeps
// the raw string when that fails; parse_python_literal does the same for the literal forms configs use.
#pragma once
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clipt {

class ConfigValue {
 public:
  enum class Kind { Null, Bool, Int, Float, String, List };

  ConfigValue() = default;  // None
  ConfigValue(std::nullptr_t) {}
  ConfigValue(bool b) : kind_(Kind::Bool), bool_(b) {}
  template <std::integral T>
  requires(!std::same_as<T, bool>) ConfigValue(T i) : kind_(Kind::Int), int_(static_cast<int64_t>(i)) {}
  ConfigValue(double f) : kind_(Kind::Float), float_(f) {}
  ConfigValue(const char* s) : kind_(Kind::String), string_(s) {}
  ConfigValue(std::string s) : kind_(Kind::String), string_(std::move(s)) {}
  // A list (yacs list or tuple). Elements must be scalars: nested lists are not config values in clipt.
  static ConfigValue list(std::vector<ConfigValue> items);
  template <typename T> static ConfigValue list(const std::vector<T>& items) {
    return list(std::vector<ConfigValue>(items.begin(), items.end()));
  }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  // Accessors throw clipt::Error naming the actual kind when the kind differs; as_number accepts Int too.
  bool as_bool() const;
  int64_t as_int() const;
  double as_number() const;
  const std::string& as_string() const;
  const std::vector<ConfigValue>& items() const;

  // Python-like rendering for messages: None, True, 3, 0.002, 'text', ['a', 1].
  std::string repr() const;
  // YAML flow rendering that reloads to the same value through Config::merge_from_file.
  std::string to_yaml() const;

  friend bool operator==(const ConfigValue& a, const ConfigValue& b);

 private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0.0;
  std::string string_;
  std::vector<ConfigValue> items_;
};

const char* kind_name(ConfigValue::Kind kind);  // "None", "bool", "int", "float", "string", "list"

// ast.literal_eval for the forms yacs configs use: integers, floats (1e-5, .5, 5.), quoted strings with
// backslash escapes, True/False/None, [..] lists and (..) tuples of those (trailing comma, `(1,)`, `()`,
// and `(5)` == 5), unary +/- on numbers. Returns nullopt where literal_eval would fail (bare words such as
// `bicubic` or `ViT-B/16`), in which case yacs keeps the text as a string. A nested list throws Error.
std::optional<ConfigValue> parse_python_literal(std::string_view text);

}  // namespace clipt
