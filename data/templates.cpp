#include "data/templates.h"

#include <map>

namespace clipt::data {
namespace {

// Registry name → Dassl name, for lookups by either.
const std::map<std::string, std::string, std::less<>>& dassl_names() {
  static const std::map<std::string, std::string, std::less<>> m{
      {"caltech101", "Caltech101"},
      {"oxford_pets", "OxfordPets"},
      {"stanford_cars", "StanfordCars"},
      {"oxford_flowers", "OxfordFlowers"},
      {"food101", "Food101"},
      {"fgvc_aircraft", "FGVCAircraft"},
      {"sun397", "SUN397"},
      {"dtd", "DescribableTextures"},
      {"eurosat", "EuroSAT"},
      {"ucf101", "UCF101"},
      {"imagenet", "ImageNet"},
      {"imagenetv2", "ImageNetV2"},
      {"imagenet_sketch", "ImageNetSketch"},
      {"imagenet_a", "ImageNetA"},
      {"imagenet_r", "ImageNetR"},
  };
  return m;
}

std::string dassl_name_of(std::string_view dataset) {
  const auto& m = dassl_names();
  const auto it = m.find(dataset);
  return it != m.end() ? it->second : std::string(dataset);
}

// CoOp trainers/zsclip.py CUSTOM_TEMPLATES, verbatim.
const std::map<std::string, std::string, std::less<>>& coop_table() {
  static const std::map<std::string, std::string, std::less<>> m{
      {"OxfordPets", "a photo of a {}, a type of pet."},
      {"OxfordFlowers", "a photo of a {}, a type of flower."},
      {"FGVCAircraft", "a photo of a {}, a type of aircraft."},
      {"DescribableTextures", "{} texture."},
      {"EuroSAT", "a centered satellite photo of {}."},
      {"StanfordCars", "a photo of a {}."},
      {"Food101", "a photo of {}, a type of food."},
      {"SUN397", "a photo of a {}."},
      {"Caltech101", "a photo of a {}."},
      {"UCF101", "a photo of a person doing {}."},
      {"ImageNet", "a photo of a {}."},
      {"ImageNetSketch", "a photo of a {}."},
      {"ImageNetV2", "a photo of a {}."},
      {"ImageNetA", "a photo of a {}."},
      {"ImageNetR", "a photo of a {}."},
  };
  return m;
}

// ProGrad trainers/prograd.py CUSTOM_TEMPLATES, verbatim (the same in GCSCoOp's copy of the trainer).
const std::map<std::string, std::string, std::less<>>& prograd_table() {
  static const std::map<std::string, std::string, std::less<>> m{
      {"OxfordPets", "a type of pet, a photo of a {}."},
      {"OxfordFlowers", "a type of flower, a photo of a {}."},
      {"FGVCAircraft", "a type of aircraft, a photo of a {}."},
      {"DescribableTextures", "a texture of {}."},
      {"EuroSAT", "a centered satellite photo of {}."},
      {"StanfordCars", "a photo of a {}."},
      {"Food101", "a type of food, a photo of {}."},
      {"SUN397", "a photo of a {}."},
      {"Caltech101", "a photo of a {}."},
      {"UCF101", "a photo of a person doing {}."},
      {"ImageNet", "a photo of a {}."},
      {"ImageNetSketch", "a photo of a {}."},
      {"ImageNetV2", "a photo of a {}."},
      {"ImageNetA", "a photo of a {}."},
      {"ImageNetR", "a photo of a {}."},
  };
  return m;
}

bool is_imagenet_family(const std::string& dassl) {
  return dassl == "ImageNet" || dassl == "ImageNetV2" || dassl == "ImageNetSketch" || dassl == "ImageNetA" ||
         dassl == "ImageNetR";
}

}  // namespace

const std::string& coop_template(std::string_view dataset) {
  static const std::string fallback = "a photo of a {}.";
  const auto& m = coop_table();
  const auto it = m.find(dassl_name_of(dataset));
  return it != m.end() ? it->second : fallback;
}

bool has_coop_template(std::string_view dataset) { return coop_table().count(dassl_name_of(dataset)) == 1; }

const std::string& kgcoop_template(std::string_view dataset) {
  // KgCoOp trainers/kgcoop.py CUSTOM_TEMPLATES is CoOp's table with this one entry changed.
  static const std::string dtd = "a photo of a {}, a type of texture.";
  return dassl_name_of(dataset) == "DescribableTextures" ? dtd : coop_template(dataset);
}

const std::string& prograd_template(std::string_view dataset) {
  static const std::string fallback = "a photo of a {}.";
  const auto& m = prograd_table();
  const auto it = m.find(dassl_name_of(dataset));
  return it != m.end() ? it->second : fallback;
}

const std::vector<std::string>& imagenet_select_templates() {
  static const std::vector<std::string> t{
      "itap of a {}.",
      "a bad photo of the {}.",
      "a origami {}.",
      "a photo of the large {}.",
      "a {} in a video game.",
      "art of the {}.",
      "a photo of the small {}.",
  };
  return t;
}

const std::vector<std::string>& metaprompt_templates(std::string_view dataset) {
  static const std::vector<std::string> imagenet{
      "itap of a {}",  "a bad photo of the {}",   "a origami {}",    "a photo of the large {}", "a {} in a video game",
      "art of the {}", "a photo of the small {}", "a photo of a {}",
  };
  static const std::map<std::string, std::vector<std::string>, std::less<>> single{
      {"Caltech101", {"a photo of a {}"}},
      {"StanfordCars", {"a photo of a {}"}},
      {"SUN397", {"a photo of a {}"}},
      {"OxfordFlowers", {"a photo of a {}, a type of flower"}},
      {"EuroSAT", {"a centered satellite photo of {}"}},
      {"DescribableTextures", {"{} texture"}},
      {"Food101", {"a photo of a {}, a type of food"}},
      {"FGVCAircraft", {"a photo of a {}, a type of aircraft"}},
      {"OxfordPets", {"a photo of a {}, a type of pet"}},
      {"UCF101", {"a photo of a person doing {}"}},
  };
  static const std::vector<std::string> photo{"a photo of a {}"};  // PACS, VLCS, OfficeHome, DomainNet, others
  const std::string dassl = dassl_name_of(dataset);
  if (is_imagenet_family(dassl)) return imagenet;
  const auto it = single.find(dassl);
  return it != single.end() ? it->second : photo;
}

std::string prompt_classname(std::string_view classname) {
  std::string out(classname);
  for (char& c : out)
    if (c == '_') c = ' ';
  return out;
}

std::string fill_template(std::string_view tmpl, std::string_view classname, ClassNameForm form) {
  const std::string name = form == ClassNameForm::Spaced ? prompt_classname(classname) : std::string(classname);
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t at = tmpl.find("{}", pos);
    if (at == std::string_view::npos) break;
    out.append(tmpl.substr(pos, at - pos));
    out.append(name);
    pos = at + 2;
  }
  out.append(tmpl.substr(pos));
  return out;
}

}  // namespace clipt::data
