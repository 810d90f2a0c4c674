// `clipt list methods|datasets|configs`: what clipt can run, one line each — the registered methods (with
// the config group their options live in), the registered datasets (with the Dassl name their YAML files
// use and the folder expected under --root) and the shipped recipes under configs/.
#include <fmt/core.h>

#include <algorithm>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/train_args.h"
#include "data/dataset.h"
#include "data/world/world_datasets.h"
#include "engine/core/error.h"
#include "methods/method.h"

namespace clipt::apps {

int cmd_list(const CommandArgs& argv) {
  Args args(argv);
  args.check_known({});
  const auto& what = args.positionals();
  CLIPT_CHECK(what.size() == 1, "list: say what to list: clipt list methods|datasets|configs");
  if (what[0] == "methods") {
    for (const auto& name : methods::method_names())
      fmt::print("{:<16} options under {}\n", name, methods::method_config_group(name));
  } else if (what[0] == "datasets") {
    world::register_world_datasets();
    for (const auto& d : data::dataset_registry())
      fmt::print("{:<22} {:<22} {}\n", d.name, d.dassl_name.empty() ? "-" : d.dassl_name,
                 d.folder.empty() ? "(generic reader)" : "<root>/" + d.folder);
  } else if (what[0] == "configs") {
    const auto root = config_dir();
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root))
      if (e.is_regular_file() && e.path().extension() == ".yaml")
        files.push_back(e.path().lexically_relative(root).string());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) fmt::print("{}\n", (root / f).string());
  } else {
    fail("list: unknown list '{}' (methods, datasets or configs)", what[0]);
  }
  return 0;
}

}  // namespace clipt::apps
