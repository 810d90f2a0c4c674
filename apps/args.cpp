#include "apps/args.h"

#include <charconv>
#include <set>

#include "engine/core/error.h"
#include "engine/core/shorten.h"

namespace clipt::apps {

namespace {

// `--flag=VALUE` for an option that takes no value: the usual spellings of true and false, nothing else.
bool parse_flag_value(const std::string& name, const std::string& value) {
  static const std::set<std::string> yes{"true", "True", "1", "yes", "on"}, no{"false", "False", "0", "no", "off"};
  if (yes.count(value)) return true;
  if (no.count(value)) return false;
  fail("option --{} takes no value (or true/false), got '{}'", name, shorten(value));
}

}  // namespace

Args::Args(const std::vector<std::string>& argv, std::set<std::string> flags) : flags_(std::move(flags)) {
  std::set<std::string> seen;
  auto first_time = [&](const std::string& name) {
    CLIPT_CHECK(seen.insert(name).second, "option --{} is given twice", shorten(name));
  };
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      std::string name = a.substr(2);
      const auto eq = name.find('=');
      if (eq != std::string::npos) {
        std::string value = name.substr(eq + 1);
        name = name.substr(0, eq);
        first_time(name);
        if (flags_.count(name)) {
          if (parse_flag_value(name, value)) flags_set_.insert(name);
        } else {
          values_[name] = std::move(value);
        }
        continue;
      }
      first_time(name);
      if (flags_.count(name)) {
        flags_set_.insert(name);
        continue;
      }
      CLIPT_CHECK(i + 1 < argv.size(), "option --{} needs a value", shorten(name));
      // `--output-dir --seed 1`: the value was forgotten; taking "--seed" as the folder would hide it.
      CLIPT_CHECK(argv[i + 1].rfind("--", 0) != 0 || argv[i + 1].size() == 2, "option --{} needs a value, got {}",
                  shorten(name), shorten(argv[i + 1]));
      values_[name] = argv[++i];
    } else {
      positionals_.push_back(a);
    }
  }
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

std::string Args::require(const std::string& name) const {
  auto v = get(name);
  CLIPT_CHECK(v.has_value(), "missing required option --{}", name);
  return *v;
}

int64_t Args::get_int(const std::string& name, int64_t fallback) const {
  auto v = get(name);
  if (!v) return fallback;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  CLIPT_CHECK(ec == std::errc() && p == v->data() + v->size(), "option --{}: '{}' is not an integer", name,
              shorten(*v));
  return out;
}

double Args::get_double(const std::string& name, double fallback) const {
  auto v = get(name);
  if (!v) return fallback;
  try {
    size_t used = 0;
    const double d = std::stod(*v, &used);
    CLIPT_CHECK(used == v->size(), "option --{}: '{}' is not a number", name, shorten(*v));
    return d;
  } catch (const std::invalid_argument&) {
    fail("option --{}: '{}' is not a number", name, shorten(*v));
  } catch (const std::out_of_range&) { fail("option --{}: '{}' is out of range", name, shorten(*v)); }
}

void Args::check_known(const std::set<std::string>& known) const {
  for (const auto& [name, v] : values_) CLIPT_CHECK(known.count(name), "unknown option --{}", shorten(name));
  for (const auto& name : flags_set_) CLIPT_CHECK(known.count(name), "unknown option --{}", shorten(name));
}

}  // namespace clipt::apps
