#include "engine/config/config_value.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "engine/core/error.h"

namespace clipt {

const char* kind_name(ConfigValue::Kind kind) {
  switch (kind) {
    case ConfigValue::Kind::Null: return "None";
    case ConfigValue::Kind::Bool: return "bool";
    case ConfigValue::Kind::Int: return "int";
    case ConfigValue::Kind::Float: return "float";
    case ConfigValue::Kind::String: return "string";
    case ConfigValue::Kind::List: return "list";
  }
  return "?";
}

ConfigValue ConfigValue::list(std::vector<ConfigValue> items) {
  for (const auto& item : items)
    CLIPT_CHECK(item.kind() != Kind::List, "config values cannot be nested lists (element {})", item.repr());
  ConfigValue v;
  v.kind_ = Kind::List;
  v.items_ = std::move(items);
  return v;
}

bool ConfigValue::as_bool() const {
  CLIPT_CHECK(kind_ == Kind::Bool, "expected a bool, got {} {}", kind_name(kind_), repr());
  return bool_;
}

int64_t ConfigValue::as_int() const {
  CLIPT_CHECK(kind_ == Kind::Int, "expected an int, got {} {}", kind_name(kind_), repr());
  return int_;
}

double ConfigValue::as_number() const {
  if (kind_ == Kind::Int) return static_cast<double>(int_);
  CLIPT_CHECK(kind_ == Kind::Float, "expected a number, got {} {}", kind_name(kind_), repr());
  return float_;
}

const std::string& ConfigValue::as_string() const {
  CLIPT_CHECK(kind_ == Kind::String, "expected a string, got {} {}", kind_name(kind_), repr());
  return string_;
}

const std::vector<ConfigValue>& ConfigValue::items() const {
  CLIPT_CHECK(kind_ == Kind::List, "expected a list, got {} {}", kind_name(kind_), repr());
  return items_;
}

bool operator==(const ConfigValue& a, const ConfigValue& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case ConfigValue::Kind::Null: return true;
    case ConfigValue::Kind::Bool: return a.bool_ == b.bool_;
    case ConfigValue::Kind::Int: return a.int_ == b.int_;
    case ConfigValue::Kind::Float: return a.float_ == b.float_ || (std::isnan(a.float_) && std::isnan(b.float_));
    case ConfigValue::Kind::String: return a.string_ == b.string_;
    case ConfigValue::Kind::List: return a.items_ == b.items_;
  }
  return false;
}

namespace {

// Shortest text that reads back as the same double, always with a '.' or exponent so that it stays a float.
std::string format_float(double f) {
  std::string s = fmt::format("{}", f);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string python_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "'";
}

std::string yaml_double_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20)
          out += fmt::format("\\x{:02x}", c);
        else
          out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// `top_level` strings go through parse_python_literal again on reload (yacs decodes them); list elements don't.
std::string yaml_scalar(const ConfigValue& v, bool top_level) {
  switch (v.kind()) {
    case ConfigValue::Kind::Null: return "null";
    case ConfigValue::Kind::Bool: return v.as_bool() ? "true" : "false";
    case ConfigValue::Kind::Int: return std::to_string(v.as_int());
    case ConfigValue::Kind::Float: {
      const double f = v.as_number();
      if (std::isnan(f)) return ".nan";
      if (std::isinf(f)) return f > 0 ? ".inf" : "-.inf";
      return format_float(f);
    }
    case ConfigValue::Kind::String: {
      const std::string& s = v.as_string();
      // A string that is itself a Python string literal ('x') would be unquoted by the reload's
      // literal_eval; quote it once more so it comes back unchanged.
      if (top_level) {
        auto literal = parse_python_literal(s);
        if (literal && literal->kind() == ConfigValue::Kind::String) return yaml_double_quote(python_quote(s));
      }
      return yaml_double_quote(s);
    }
    case ConfigValue::Kind::List: break;
  }
  std::string out = "[";
  for (size_t i = 0; i < v.items().size(); ++i) out += (i ? ", " : "") + yaml_scalar(v.items()[i], false);
  return out + "]";
}

}  // namespace

std::string ConfigValue::repr() const {
  switch (kind_) {
    case Kind::Null: return "None";
    case Kind::Bool: return bool_ ? "True" : "False";
    case Kind::Int: return std::to_string(int_);
    case Kind::Float:
      if (std::isnan(float_)) return "nan";
      if (std::isinf(float_)) return float_ > 0 ? "inf" : "-inf";
      return format_float(float_);
    case Kind::String: return python_quote(string_);
    case Kind::List: break;
  }
  std::string out = "[";
  for (size_t i = 0; i < items_.size(); ++i) out += (i ? ", " : "") + items_[i].repr();
  return out + "]";
}

std::string ConfigValue::to_yaml() const { return yaml_scalar(*this, true); }

// ---------------------------------------------------------------------------------------------------------
// parse_python_literal: a small recursive-descent reader of the ast.literal_eval subset configs use.

namespace {

class LiteralReader {
 public:
  explicit LiteralReader(std::string_view text) : s_(text) {}

  std::optional<ConfigValue> read_all() {
    auto v = value();
    skip_space();
    if (!v || pos_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  void skip_space() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool eat(char c) {
    skip_space();
    if (peek() != c) return false;
    ++pos_;
    return true;
  }

  std::optional<ConfigValue> value() {
    skip_space();
    const char c = peek();
    if (c == '[') return sequence(']');
    if (c == '(') return parenthesised();
    if (c == '\'' || c == '"') return quoted();
    if (c == '+' || c == '-') {
      ++pos_;
      skip_space();
      auto v = number();
      if (!v || c == '+') return v;
      if (v->kind() == ConfigValue::Kind::Int) return ConfigValue(-v->as_int());
      return ConfigValue(-v->as_number());
    }
    if ((c >= '0' && c <= '9') || c == '.') return number();
    return word();
  }

  // Elements of a list or tuple; the opening bracket is at pos_ (or already consumed when `opened`).
  std::optional<ConfigValue> sequence(char close, bool opened = false, std::vector<ConfigValue> items = {}) {
    if (!opened) ++pos_;
    while (true) {
      if (eat(close)) break;
      auto item = value();
      if (!item) return std::nullopt;
      CLIPT_CHECK(item->kind() != ConfigValue::Kind::List, "config value {}: nested lists are not supported",
                  std::string(s_));
      items.push_back(std::move(*item));
      if (eat(close)) break;
      if (!eat(',')) return std::nullopt;
    }
    return ConfigValue::list(std::move(items));
  }

  // `()` is an empty tuple, `(x,)` and `(x, y)` are tuples, `(x)` is just x.
  std::optional<ConfigValue> parenthesised() {
    ++pos_;
    if (eat(')')) return ConfigValue::list({});
    auto first = value();
    if (!first) return std::nullopt;
    if (eat(')')) return first;
    if (!eat(',')) return std::nullopt;
    CLIPT_CHECK(first->kind() != ConfigValue::Kind::List, "config value {}: nested lists are not supported",
                std::string(s_));
    std::vector<ConfigValue> items;
    items.push_back(std::move(*first));
    return sequence(')', true, std::move(items));
  }

  std::optional<ConfigValue> quoted() {
    const char quote = s_[pos_++];
    std::string out;
    while (!at_end() && s_[pos_] != quote) {
      char c = s_[pos_++];
      if (c == '\n') return std::nullopt;  // a single-quoted Python string cannot span lines
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_end()) return std::nullopt;
      const char e = s_[pos_++];
      switch (e) {
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '0': out += '\0'; break;
        default: out += '\\', out += e;  // Python keeps unknown escapes verbatim
      }
    }
    if (at_end()) return std::nullopt;
    ++pos_;  // closing quote
    return ConfigValue(std::move(out));
  }

  std::optional<ConfigValue> word() {
    const size_t start = pos_;
    while (!at_end() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) ++pos_;
    const std::string_view w = s_.substr(start, pos_ - start);
    if (w == "True") return ConfigValue(true);
    if (w == "False") return ConfigValue(false);
    if (w == "None") return ConfigValue();
    return std::nullopt;
  }

  std::optional<ConfigValue> number() {
    const size_t start = pos_;
    auto digits = [&](auto is_digit) {
      const size_t from = pos_;
      while (!at_end() && (is_digit(s_[pos_]) || (s_[pos_] == '_' && pos_ > from))) ++pos_;
      return pos_ - from;
    };
    auto dec = [](char c) { return c >= '0' && c <= '9'; };
    // 0x.., 0o.., 0b.. integers.
    if (peek() == '0' && pos_ + 1 < s_.size() &&
        std::string_view("xXoObB").find(s_[pos_ + 1]) != std::string_view::npos) {
      const char base_char = static_cast<char>(std::tolower(s_[pos_ + 1]));
      const int base = base_char == 'x' ? 16 : base_char == 'o' ? 8 : 2;
      pos_ += 2;
      const size_t n = digits([](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
      if (n == 0) return std::nullopt;
      return to_int(strip_underscores(s_.substr(start + 2, pos_ - start - 2)), base);
    }
    const size_t int_digits = digits(dec);
    bool is_float = false;
    size_t frac_digits = 0;
    if (peek() == '.') {
      ++pos_;
      is_float = true;
      frac_digits = digits(dec);
    }
    if (int_digits == 0 && frac_digits == 0) return std::nullopt;
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (digits(dec) == 0) return std::nullopt;
      is_float = true;
    }
    if (peek() == 'j' || peek() == 'J' || std::isalpha(static_cast<unsigned char>(peek())) || peek() == '_')
      return std::nullopt;  // complex numbers, or a word that starts with digits
    const std::string text = strip_underscores(s_.substr(start, pos_ - start));
    if (is_float) return ConfigValue(std::strtod(text.c_str(), nullptr));
    // Python rejects leading zeros on non-zero decimal integers ("007").
    if (text.size() > 1 && text[0] == '0' && text.find_first_not_of('0') != std::string::npos) return std::nullopt;
    return to_int(text, 10);
  }

  static std::string strip_underscores(std::string_view text) {
    std::string out;
    for (char c : text)
      if (c != '_') out += c;
    return out;
  }

  std::optional<ConfigValue> to_int(const std::string& text, int base) const {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
    CLIPT_CHECK(ec != std::errc::result_out_of_range, "config value {}: integer out of the 64-bit range",
                std::string(s_));
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return ConfigValue(v);
  }
};

}  // namespace

std::optional<ConfigValue> parse_python_literal(std::string_view text) { return LiteralReader(text).read_all(); }

}  // namespace clipt
