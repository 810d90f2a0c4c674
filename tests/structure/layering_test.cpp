// The layering rules of ../shared/DESIGN.md, checked on the sources: an #include never points up a layer
// (kernels <- engine <- data <- models <- methods <- apps), and the folders inside engine/ include each
// other without a cycle. The build enforces the first rule too (each layer compiles against an include root
// that holds only its own folder and the ones below); this test names the offending line.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/common/test_util.h"

namespace clipt::test {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kLayers = {"kernels", "engine", "data", "models", "methods", "apps"};

int layer_rank(const std::string& folder) {
  for (size_t i = 0; i < kLayers.size(); ++i)
    if (kLayers[i] == folder) return int(i);
  return -1;
}

bool is_source(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".cpp" || ext == ".h" || ext == ".cu" || ext == ".cuh";
}

struct Include {
  fs::path file;  // relative to the source root
  int line = 0;
  std::string target;  // e.g. "engine/core/tensor.h"
};

// Every project include ("x/y.h" whose first folder is a layer) of every source file under `folder`.
std::vector<Include> includes_under(const fs::path& root, const std::string& folder) {
  static const std::regex kInclude(R"(^\s*#\s*include\s*\"([^\"]+)\")");
  std::vector<Include> out;
  for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
    if (!entry.is_regular_file() || !is_source(entry.path())) continue;
    std::ifstream in(entry.path());
    std::string text;
    for (int n = 1; std::getline(in, text); ++n) {
      std::smatch m;
      if (std::regex_search(text, m, kInclude)) out.push_back({fs::relative(entry.path(), root), n, m[1].str()});
    }
  }
  return out;
}

std::string first_component(const std::string& path) { return path.substr(0, path.find('/')); }

// engine/<folder>/... → <folder>; anything else → "".
std::string engine_folder(const std::string& path) {
  if (!path.starts_with("engine/")) return "";
  const std::string rest = path.substr(7);
  const size_t slash = rest.find('/');
  return slash == std::string::npos ? "" : rest.substr(0, slash);
}

// A cycle in `graph` as "a -> b -> a", or "" when there is none.
std::string find_cycle(const std::map<std::string, std::set<std::string>>& graph) {
  std::map<std::string, int> state;  // 0 unseen, 1 on the stack, 2 done
  std::vector<std::string> stack;
  std::string cycle;
  std::function<bool(const std::string&)> visit = [&](const std::string& node) {
    state[node] = 1;
    stack.push_back(node);
    auto it = graph.find(node);
    if (it != graph.end()) {
      for (const auto& next : it->second) {
        if (state[next] == 1) {
          auto from = std::find(stack.begin(), stack.end(), next);
          for (auto s = from; s != stack.end(); ++s) cycle += *s + " -> ";
          cycle += next;
          return true;
        }
        if (state[next] == 0 && visit(next)) return true;
      }
    }
    stack.pop_back();
    state[node] = 2;
    return false;
  };
  for (const auto& [node, _] : graph)
    if (state[node] == 0 && visit(node)) return cycle;
  return "";
}

TEST(Layering, NoIncludePointsUpALayer) {
  const fs::path root = source_dir();
  std::vector<std::string> violations;
  for (const auto& layer : kLayers) {
    for (const Include& inc : includes_under(root, layer)) {
      const int target_rank = layer_rank(first_component(inc.target));
      if (target_rank > layer_rank(layer))
        violations.push_back(inc.file.string() + ":" + std::to_string(inc.line) + " includes " + inc.target);
    }
  }
  std::string message;
  for (const auto& v : violations) message += "\n  " + v;
  EXPECT_TRUE(violations.empty()) << "includes that point up a layer:" << message;
}

TEST(Layering, EngineFoldersFormNoCycle) {
  const fs::path root = source_dir();
  std::map<std::string, std::set<std::string>> graph;
  std::map<std::string, std::string> example;  // "a->b" → the first include that makes the edge
  for (const Include& inc : includes_under(root, "engine")) {
    const std::string from = engine_folder(inc.file.generic_string());
    const std::string to = engine_folder(inc.target);
    if (from.empty() || to.empty() || from == to) continue;
    graph[from].insert(to);
    example.emplace(from + "->" + to, inc.file.string() + ":" + std::to_string(inc.line));
  }
  const std::string cycle = find_cycle(graph);
  std::string where;
  if (!cycle.empty()) {
    std::vector<std::string> nodes;
    for (size_t start = 0, end; start < cycle.size(); start = end + 4) {
      end = cycle.find(" -> ", start);
      nodes.push_back(cycle.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
    }
    for (size_t i = 0; i + 1 < nodes.size(); ++i) where += "\n  " + example[nodes[i] + "->" + nodes[i + 1]];
  }
  EXPECT_TRUE(cycle.empty()) << "engine folders include each other in a cycle: " << cycle << where;
}

// The checker itself: a planted cycle is found, a chain is not.
TEST(Layering, CycleFinderSeesACycle) {
  EXPECT_EQ(find_cycle({{"core", {"autograd"}}, {"autograd", {"ops"}}, {"ops", {"autograd"}}}),
            "autograd -> ops -> autograd");
  EXPECT_EQ(find_cycle({{"ops", {"autograd", "core"}}, {"autograd", {"core"}}}), "");
}

TEST(Layering, EngineNeedsNoImageLibrary) {
  // engine/ is tensor, autograd, ops, backends, nn, optim, io and config: no image format lives there.
  const fs::path root = source_dir();
  for (const auto& entry : fs::recursive_directory_iterator(root / "engine")) {
    if (!entry.is_regular_file() || !is_source(entry.path())) continue;
    std::ifstream in(entry.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text.find("<jpeglib.h>"), std::string::npos) << entry.path();
    EXPECT_EQ(text.find("<png.h>"), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace clipt::test
