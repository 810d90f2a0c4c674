#include "engine/config/config.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"

namespace clipt {

namespace {

bool valid_key(const std::string& key) {
  if (key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos) return false;
  return std::all_of(key.begin(), key.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; });
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "LEARNING_RATE" -> "LR": the first letter of each underscore-separated word.
std::string acronym(std::string_view name) {
  std::string out;
  bool word_start = true;
  for (char c : name) {
    if (c == '_') {
      word_start = true;
    } else {
      if (word_start) out += c;
      word_start = false;
    }
  }
  return out;
}

std::pair<std::string_view, std::string_view> split_last(std::string_view key) {
  const size_t dot = key.rfind('.');
  if (dot == std::string_view::npos) return {std::string_view(), key};
  return {key.substr(0, dot), key.substr(dot + 1)};
}

std::string describe_kinds(ConfigValue::Kind kind, const std::vector<ConfigValue::Kind>& also,
                           const std::vector<ConfigValue::Kind>& element_kinds) {
  std::string out = kind_name(kind);
  if (kind == ConfigValue::Kind::List && !element_kinds.empty())
    out = fmt::format("list of {}", kind_name(element_kinds[0]));
  for (auto k : also) out += fmt::format(" or {}", kind_name(k));
  return out;
}

}  // namespace

void Config::define(const std::string& key, ConfigValue default_value, std::vector<Kind> also_accepts) {
  CLIPT_CHECK(!frozen_, "config is frozen: cannot define {}", key);
  CLIPT_CHECK(valid_key(key), "invalid config key '{}': use dot-separated names of letters, digits and _", key);
  CLIPT_CHECK(!leaves_.count(key), "config key {} is defined twice", key);
  CLIPT_CHECK(!groups_.count(key), "config key {} is already a group of keys (e.g. {})", key, first_key_under(key));
  for (size_t dot = key.find('.'); dot != std::string::npos; dot = key.find('.', dot + 1)) {
    const std::string group = key.substr(0, dot);
    CLIPT_CHECK(!leaves_.count(group), "config key {} cannot be defined under the value key {}", key, group);
    groups_.insert(group);
  }
  Leaf leaf{std::move(default_value), Kind::Null, std::move(also_accepts), {}};
  leaf.kind = leaf.value.kind();
  if (leaf.kind == Kind::List && !leaf.value.items().empty()) {
    const Kind first = leaf.value.items()[0].kind();
    const bool uniform = std::all_of(leaf.value.items().begin(), leaf.value.items().end(),
                                     [&](const ConfigValue& v) { return v.kind() == first; });
    if (uniform) leaf.element_kinds = {first};
  }
  leaves_.emplace(key, std::move(leaf));
  order_.push_back(key);
}

bool Config::has(std::string_view key) const { return leaves_.count(std::string(key)) > 0; }
bool Config::has_group(std::string_view key) const { return groups_.count(std::string(key)) > 0; }

std::string Config::first_key_under(const std::string& group) const {
  for (const auto& key : order_)
    if (key.size() > group.size() && key.compare(0, group.size(), group) == 0 && key[group.size()] == '.') return key;
  return group;
}

const Config::Leaf& Config::leaf(std::string_view key) const {
  auto it = leaves_.find(std::string(key));
  if (it != leaves_.end()) return it->second;
  if (has_group(key))
    fail("config key {} is a group of keys (e.g. {}), not a value", key, first_key_under(std::string(key)));
  fail("unknown config key {}; did you mean {}?", key, nearest_key(key));
}

const ConfigValue& Config::get(std::string_view key) const { return leaf(key).value; }

namespace {
template <typename F> auto typed(std::string_view key, const ConfigValue& v, F&& read) {
  try {
    return read(v);
  } catch (const Error& e) { throw Error(fmt::format("config key {}: {}", key, e.what())); }
}
}  // namespace

bool Config::get_bool(std::string_view key) const {
  return typed(key, get(key), [](const ConfigValue& v) { return v.as_bool(); });
}
int64_t Config::get_int(std::string_view key) const {
  return typed(key, get(key), [](const ConfigValue& v) { return v.as_int(); });
}
double Config::get_float(std::string_view key) const {
  return typed(key, get(key), [](const ConfigValue& v) { return v.as_number(); });
}
const std::string& Config::get_string(std::string_view key) const {
  const ConfigValue& v = get(key);
  CLIPT_CHECK(v.kind() == Kind::String, "config key {}: expected a string, got {} {}", key, kind_name(v.kind()),
              v.repr());
  return v.as_string();
}
std::vector<double> Config::get_list_float(std::string_view key) const {
  return typed(key, get(key), [](const ConfigValue& v) {
    std::vector<double> out;
    for (const auto& item : v.items()) out.push_back(item.as_number());
    return out;
  });
}
std::vector<int64_t> Config::get_list_int(std::string_view key) const {
  return typed(key, get(key), [](const ConfigValue& v) {
    std::vector<int64_t> out;
    for (const auto& item : v.items()) out.push_back(item.as_int());
    return out;
  });
}
std::vector<std::string> Config::get_list_string(std::string_view key) const {
  return typed(key, get(key), [](const ConfigValue& v) {
    std::vector<std::string> out;
    for (const auto& item : v.items()) out.push_back(item.as_string());
    return out;
  });
}

void Config::assign(const std::string& key, ConfigValue value, const std::string* raw_text, const std::string& where) {
  CLIPT_CHECK(!frozen_, "config is frozen: cannot set {} {}", key, where);
  auto it = leaves_.find(key);
  if (it == leaves_.end()) fail_unknown(key, where);
  Leaf& leaf = it->second;
  auto mismatch = [&]() {
    fail("config key {} {}: expected {}, got {} {}", key, where,
         describe_kinds(leaf.kind, leaf.also_accepts, leaf.element_kinds), kind_name(value.kind()), value.repr());
  };
  const Kind got = value.kind();
  const bool accepted = got == leaf.kind || std::count(leaf.also_accepts.begin(), leaf.also_accepts.end(), got);
  if (got == Kind::Null || leaf.kind == Kind::Null) {
    // yacs: None replaces anything, and a None default takes any kind.
  } else if (accepted && got == Kind::List && !leaf.element_kinds.empty()) {
    const Kind element = leaf.element_kinds[0];
    std::vector<ConfigValue> items;
    for (const auto& item : value.items()) {
      if (item.kind() == element)
        items.push_back(item);
      else if (element == Kind::Float && item.kind() == Kind::Int)
        items.emplace_back(item.as_number());
      else
        mismatch();
    }
    value = ConfigValue::list(std::move(items));
  } else if (accepted) {
  } else if (leaf.kind == Kind::Float && got == Kind::Int) {
    value = ConfigValue(value.as_number());
  } else if (leaf.kind == Kind::String && raw_text) {
    value = ConfigValue(*raw_text);
  } else if (leaf.kind == Kind::Bool && raw_text && (upper(*raw_text) == "TRUE" || upper(*raw_text) == "FALSE")) {
    value = ConfigValue(upper(*raw_text) == "TRUE");
  } else {
    mismatch();
  }
  leaf.value = std::move(value);
}

void Config::fail_unknown(const std::string& key, const std::string& where) const {
  if (has_group(key))
    fail("config key {} {} is a group of keys (e.g. {}), not a value", key, where, first_key_under(key));
  fail("unknown config key {} {}; did you mean {}?", key, where, nearest_key(key));
}

void Config::set(const std::string& key, ConfigValue value) { assign(key, std::move(value), nullptr, "(set in code)"); }

void Config::merge_from_list(const std::vector<std::string>& key_value_pairs) {
  CLIPT_CHECK(key_value_pairs.size() % 2 == 0,
              "command-line config overrides must be KEY VALUE pairs; '{}' has no value", key_value_pairs.back());
  all_or_nothing([&] {
    for (size_t i = 0; i < key_value_pairs.size(); i += 2) {
      const std::string& key = key_value_pairs[i];
      const std::string& text = key_value_pairs[i + 1];
      auto literal = parse_python_literal(text);
      assign(key, literal ? *literal : ConfigValue(text), &text, "on the command line");
    }
  });
}

void Config::all_or_nothing(const std::function<void()>& merge) {
  auto before = leaves_;
  try {
    merge();
  } catch (...) {
    leaves_ = std::move(before);
    throw;
  }
}

std::string Config::nearest_key(std::string_view unknown) const {
  if (order_.empty()) return "(no keys defined)";
  const std::string wanted = upper(unknown);
  for (const auto& key : order_)
    if (upper(key) == wanted) return key;
  // An abbreviation in either direction within the same group: OPTIM.LEARNING_RATE <-> OPTIM.LR.
  const auto [group, name] = split_last(wanted);
  for (const auto& key : order_) {
    const auto [key_group, key_name] = split_last(key);
    if (key_group != group) continue;
    if (key_name == acronym(name) || acronym(key_name) == name) return key;
  }
  const std::string* best = &order_.front();
  size_t best_distance = SIZE_MAX;
  for (const auto& key : order_) {
    const size_t d = edit_distance(wanted, upper(key));
    if (d < best_distance) best_distance = d, best = &key;
  }
  return *best;
}

// ---------------------------------------------------------------------------------------------------------
// dump / save

namespace {
void dump_group(const Config& cfg, const std::string& prefix, int depth, std::string& out) {
  std::vector<std::string> children;  // immediate child names under `prefix`, in first-definition order
  for (const auto& key : cfg.keys()) {
    if (!prefix.empty() &&
        (key.size() <= prefix.size() || key.compare(0, prefix.size(), prefix) != 0 || key[prefix.size()] != '.'))
      continue;
    const std::string rest = prefix.empty() ? key : key.substr(prefix.size() + 1);
    const std::string child = rest.substr(0, rest.find('.'));
    if (std::find(children.begin(), children.end(), child) == children.end()) children.push_back(child);
  }
  for (const auto& child : children) {
    const std::string full = prefix.empty() ? child : prefix + "." + child;
    const std::string indent(static_cast<size_t>(2 * depth), ' ');
    if (cfg.has(full)) {
      out += fmt::format("{}{}: {}\n", indent, child, cfg.get(full).to_yaml());
    } else {
      out += fmt::format("{}{}:\n", indent, child);
      dump_group(cfg, full, depth + 1, out);
    }
  }
}
}  // namespace

std::string Config::dump() const {
  std::string out;
  dump_group(*this, "", 0, out);
  return out;
}

void Config::save(const std::filesystem::path& path) const {
  io::write_file_atomic(path, dump());  // a failed write (a full disk) leaves neither a partial file nor a temporary
}

}  // namespace clipt
