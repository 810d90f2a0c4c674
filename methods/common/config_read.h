// Small readers for the method keys of the peers' configs.
#pragma once
#include <string>

#include "engine/config/config.h"

namespace clipt::methods {

// CTX_INIT-style keys: a string (CoOp), or a bool in the KgCoOp/ProGrad/GCSCoOp forks, whose trainers
// read `CTX_INIT: True` as "initialise from 'a photo of a'" and False as random initialisation.
inline std::string ctx_init_value(const Config& cfg, const std::string& key) {
  const ConfigValue& v = cfg.get(key);
  if (v.is_null()) return "";
  if (v.kind() == ConfigValue::Kind::Bool) return v.as_bool() ? "a photo of a" : "";
  return v.as_string();
}

}  // namespace clipt::methods
