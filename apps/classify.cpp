// `clipt classify --model DIR --classes "name,name,..." [--template "a photo of a {}."]
//  [--device cpu|cuda] [--dtype fp32|fp16|bf16] [--top K] [--batch N] [--json] IMAGE...`
// Zero-shot classification of image files. With --json, one object
// {"classes": [...], "images": [...], "logits": [[...]], "probs": [[...]]}, logits = logit_scale·cos.
#include <fmt/core.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "apps/args.h"
#include "apps/commands.h"
#include "data/image.h"
#include "data/templates.h"
#include "engine/core/shorten.h"
#include "engine/ops/ops.h"
#include "methods/trainer/progress.h"
#include "models/clip/clip_model.h"
#include "models/clip/preprocess.h"
#include "models/clip/tokenizer.h"

namespace clipt::apps {

namespace {
std::vector<std::string> split_classes(const std::string& s) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= s.size()) {
    const size_t comma = s.find(',', at);
    std::string name = s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    const auto b = name.find_first_not_of(' '), e = name.find_last_not_of(' ');
    if (b != std::string::npos) out.push_back(name.substr(b, e - b + 1));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}
}  // namespace

int cmd_classify(const CommandArgs& argv) {
  Args args(argv, {"json"});
  args.check_known({"model", "classes", "template", "device", "dtype", "json", "top", "batch", "max-image-pixels"});
  const std::filesystem::path dir = args.require("model");
  const auto classes = split_classes(args.require("classes"));
  CLIPT_CHECK(!classes.empty(), "classify: --classes is empty");
  const std::string tmpl = args.get_or("template", "a photo of a {}.");
  CLIPT_CHECK(tmpl.find("{}") != std::string::npos, "classify: --template '{}' has no {{}} for the class name", tmpl);
  const Device device = parse_device(args.get_or("device", "cpu"));
  const std::string dtype_arg = args.get_or("dtype", "fp32");
  CLIPT_CHECK(dtype_arg == "fp32" || dtype_arg == "fp16" || dtype_arg == "bf16",
              "classify: --dtype '{}' is not one of fp32, fp16, bf16", shorten(dtype_arg));
  const DType dtype = parse_dtype(dtype_arg);
  const int64_t top = args.get_int("top", 5);
  CLIPT_CHECK(top >= 1, "classify: --top {} must be at least 1", top);
  const int64_t batch = args.get_int("batch", 32);
  CLIPT_CHECK(batch >= 1, "classify: --batch {} must be at least 1", batch);
  for (size_t i = 0; i < classes.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      CLIPT_CHECK(classes[i] != classes[j], "classify: class '{}' is given twice in --classes", shorten(classes[i]));
  data::set_max_image_pixels(args.get_int("max-image-pixels", data::kDefaultMaxImagePixels));
  std::vector<std::filesystem::path> images(args.positionals().begin(), args.positionals().end());
  CLIPT_CHECK(!images.empty(), "classify: no image given");

  auto model = clip::load_clip(dir, dtype, device);
  const auto tok = clip::Tokenizer::from_hf_dir(dir);
  NoGrad ng;
  std::vector<std::string> texts;
  for (const auto& c : classes) texts.push_back(data::fill_template(tmpl, c));
  Tensor text = model->encode_text(tok.tokenize_batch(texts, model->config().context_length).to(device));
  // Images go through the image tower `batch` at a time (memory stays flat over many files), with progress
  // and ETA on stderr when it is a terminal (stdout carries the results, --json included).
  const int64_t n = int64_t(images.size()), c = int64_t(classes.size());
  std::vector<double> lv, pv;
  trainer::Progress progress("classifying", n, {}, batch, n > batch ? trainer::Progress::terminal(stderr) : nullptr);
  for (int64_t first = 0; first < n; first += batch) {
    const std::vector<std::filesystem::path> part(images.begin() + first, images.begin() + std::min(n, first + batch));
    Tensor pixels = clip::preprocess_images(part, model->config().image_size).to(device);
    Tensor logits = model->logits(model->encode_image(pixels), text);
    const auto l = logits.to_vector<double>(), p = softmax(logits, -1).to_vector<double>();
    lv.insert(lv.end(), l.begin(), l.end());
    pv.insert(pv.end(), p.begin(), p.end());
    progress.advance(int64_t(part.size()));
  }
  for (size_t k = 0; k < lv.size(); ++k)
    CLIPT_CHECK(std::isfinite(lv[k]),
                "classify: the model {} gave a non-finite logit ({}) for {}: its weights are broken (NaN or Inf)",
                dir.string(), lv[k], images[k / classes.size()].string());
  if (args.flag("json")) {
    nlohmann::json j = {{"classes", classes},
                        {"images", nlohmann::json::array()},
                        {"logits", nlohmann::json::array()},
                        {"probs", nlohmann::json::array()}};
    for (int64_t i = 0; i < n; ++i) {
      j["images"].push_back(images[size_t(i)].string());
      j["logits"].push_back(std::vector<double>(lv.begin() + i * c, lv.begin() + (i + 1) * c));
      j["probs"].push_back(std::vector<double>(pv.begin() + i * c, pv.begin() + (i + 1) * c));
    }
    fmt::print("{}\n", j.dump());
    return 0;
  }
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int64_t> order(static_cast<size_t>(c));
    for (int64_t k = 0; k < c; ++k) order[size_t(k)] = k;
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return pv[size_t(i * c + a)] > pv[size_t(i * c + b)]; });
    fmt::print("{}\n", images[size_t(i)].string());
    for (int64_t k = 0; k < std::min(top, c); ++k) {
      const int64_t j = order[size_t(k)];
      fmt::print("  {:6.2f}%  {}  (logit {:.3f})\n", 100 * pv[size_t(i * c + j)], classes[size_t(j)],
                 lv[size_t(i * c + j)]);
    }
  }
  return 0;
}

}  // namespace clipt::apps
