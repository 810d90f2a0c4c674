#include "methods/trainer/protocol_recipe.h"

#include <yaml-cpp/yaml.h>

#include "data/dataset.h"
#include "engine/core/error.h"

namespace clipt::trainer {

namespace fs = std::filesystem;

namespace {

// The registry name of a dataset named by the user (an Error naming it when unknown).
std::string dataset_key(const std::string& name, const std::string& where) {
  try {
    return data::find_dataset(name).name;
  } catch (const Error& e) { fail("{}: {}", where, e.what()); }
}

std::string existing_file(const fs::path& p, const std::string& where) {
  CLIPT_CHECK(fs::is_regular_file(p), "{}: config file {} does not exist", where, p.string());
  return p.string();
}

}  // namespace

ProtocolRecipe read_protocol_recipe(const fs::path& file) {
  CLIPT_CHECK(fs::is_regular_file(file), "recipe file {} does not exist", file.string());
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) { fail("recipe file {}: {}", file.string(), e.what()); }
  CLIPT_CHECK(root.IsMap(), "recipe file {}: expected a mapping of TRAINER, CONFIG_FILE, CONFIG_FILE_FOR",
              file.string());
  const fs::path dir = file.parent_path();
  auto resolve = [&](const YAML::Node& v, const std::string& key) {
    CLIPT_CHECK(v.IsScalar(), "recipe file {}: {} must be a path", file.string(), key);
    const fs::path p = v.as<std::string>();
    return existing_file(p.is_absolute() ? p : dir / p, fmt::format("recipe file {} ({})", file.string(), key));
  };
  ProtocolRecipe r;
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    if (key == "TRAINER") {
      CLIPT_CHECK(kv.second.IsScalar(), "recipe file {}: TRAINER must be a method name", file.string());
      r.trainer = kv.second.as<std::string>();
    } else if (key == "CONFIG_FILE") {
      r.config_file = resolve(kv.second, key);
    } else if (key == "CONFIG_FILE_FOR") {
      CLIPT_CHECK(kv.second.IsMap(), "recipe file {}: CONFIG_FILE_FOR must map datasets to config files",
                  file.string());
      for (const auto& d : kv.second) {
        const std::string name = d.first.as<std::string>(), where = "CONFIG_FILE_FOR." + name;
        r.config_file_for[dataset_key(name, fmt::format("recipe file {} ({})", file.string(), where))] =
            resolve(d.second, where);
      }
    } else {
      fail("recipe file {}: unknown key {} (expected TRAINER, CONFIG_FILE, CONFIG_FILE_FOR)", file.string(), key);
    }
  }
  return r;
}

ConfigFileFor parse_config_file_for(const std::vector<std::string>& items) {
  ConfigFileFor out;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    CLIPT_CHECK(eq != std::string::npos && eq > 0 && eq + 1 < item.size(),
                "--config-file-for '{}': expected DATASET=PATH", item);
    const std::string where = fmt::format("--config-file-for {}", item);
    const std::string key = dataset_key(item.substr(0, eq), where);
    CLIPT_CHECK(!out.count(key), "--config-file-for: dataset {} is given twice", key);
    out[key] = existing_file(item.substr(eq + 1), where);
  }
  return out;
}

std::string config_file_for(const ConfigFileFor& per_dataset, const std::string& dataset, const std::string& fallback) {
  if (per_dataset.empty()) return fallback;
  const auto it = per_dataset.find(data::find_dataset(dataset).name);
  return it != per_dataset.end() ? it->second : fallback;
}

}  // namespace clipt::trainer
