// Generated replicas of the multi-domain layouts Dassl's DG readers (and MetaPrompt's *FS copies) read:
// PACS (split files with 1-based labels), VLCS (upper-case domain folders, class folders per split),
// Office-Home (DigitsDG layout), DomainNet (split files with 0-based labels). Tiny JPEG bytes (readers do
// not decode), a few classes per domain, and different counts per domain and class so that a reader that
// mixes domains up or drops images is caught. Each builder returns, per domain, what a correct reader
// finds.
#pragma once
#include <fmt/format.h>

#include <map>
#include <string>
#include <vector>

#include "tests/data/replicas.h"

namespace clipt::test::dg_replicas {

namespace fs = std::filesystem;
using replicas::image;

struct DomainCounts {
  size_t train = 0, val = 0, test = 0;
};

struct ExpectedDomains {
  std::vector<std::string> domains;              // the dataset's own order
  std::vector<std::string> classnames;           // by label
  std::vector<DomainCounts> counts;              // per domain, in `domains` order
  std::map<std::string, int64_t> label_of_path;  // absolute image path → label, for every listed image
};

// Images of class c in domain d and split s: 1 + (c + d + s) % 3, so counts differ everywhere.
inline int images_for(size_t c, size_t d, int split) { return 1 + int((c + d + size_t(split)) % 3); }

// PACS: images/<domain>/<class>/<file>, splits/<domain>_{train,crossval}_kfold.txt ("<rel> <label+1>"),
// plus a *_test_kfold.txt holding a bogus line that the reader must not read, and Dassl's known-bad sketch
// image listed in sketch's train file (skipped).
inline ExpectedDomains pacs(const fs::path& root, const std::string& folder = "pacs",
                            const std::vector<std::string>& domains = {"art_painting", "cartoon", "photo", "sketch"},
                            const std::vector<std::string>& classes = {"dog", "elephant", "giraffe", "guitar", "horse",
                                                                       "house", "person"}) {
  const fs::path dir = root / folder, images = dir / "images", splits = dir / "splits";
  ExpectedDomains e;
  e.domains = domains;
  e.classnames = classes;
  for (size_t d = 0; d < domains.size(); ++d) {
    std::string files[2];
    DomainCounts n;
    for (int split = 0; split < 2; ++split)
      for (size_t c = 0; c < classes.size(); ++c)
        for (int i = 0; i < images_for(c, d, split); ++i) {
          const std::string rel = fmt::format("{}/{}/pic_{}_{:03d}.jpg", domains[d], classes[c], split, i);
          image(images / rel);
          files[split] += fmt::format("{} {}\n", rel, c + 1);
          e.label_of_path[(images / rel).string()] = int64_t(c);
          (split == 0 ? n.train : n.val) += 1;
        }
    if (domains[d] == "sketch" && folder == "pacs") {  // listed, exists, but Dassl skips it
      image(images / "sketch/dog/n02103406_4068-1.png");
      files[0] = "sketch/dog/n02103406_4068-1.png 1\n" + files[0];
    }
    n.test = n.train + n.val;
    e.counts.push_back(n);
    put_text(splits / (domains[d] + "_train_kfold.txt"), files[0]);
    put_text(splits / (domains[d] + "_crossval_kfold.txt"), files[1]);
    put_text(splits / (domains[d] + "_test_kfold.txt"), "not/read.jpg 1\n");
  }
  return e;
}

// VLCS: <folder>/<DOMAIN>/{train,crossval,test}/<class folder>/*.jpg, class folders named 0..4 (names come
// from MetaPrompt's list); a .png and a hidden file per class that glob('*.jpg') does not match.
inline ExpectedDomains vlcs(const fs::path& root, const std::string& folder = "VLCS") {
  const fs::path dir = root / folder;
  ExpectedDomains e;
  e.domains = {"caltech", "labelme", "pascal", "sun"};
  e.classnames = {"bird", "car", "chair", "dog", "person"};
  const char* uppers[] = {"CALTECH", "LABELME", "PASCAL", "SUN"};
  const char* splits[] = {"train", "crossval", "test"};
  for (size_t d = 0; d < 4; ++d) {
    DomainCounts n;
    for (int s = 0; s < 3; ++s)
      for (size_t c = 0; c < 5; ++c) {
        const fs::path class_dir = dir / uppers[d] / splits[s] / std::to_string(c);
        for (int i = 0; i < images_for(c, d, s); ++i) {
          image(class_dir / fmt::format("{:05d}.jpg", i));
          e.label_of_path[(class_dir / fmt::format("{:05d}.jpg", i)).string()] = int64_t(c);
          (s == 0 ? n.train : s == 1 ? n.val : n.test) += 1;
        }
        image(class_dir / "extra.png");
        image(class_dir / ".hidden.jpg");
      }
    e.counts.push_back(n);
  }
  return e;
}

// Office-Home (DigitsDG layout): <folder>/<domain>/{train,val}/<Class_Folder>/*.jpg; class names are the
// folder names lower-cased, labels by sorted (case-sensitive) folder name.
inline ExpectedDomains office_home(const fs::path& root, const std::string& folder = "office_home_dg") {
  const fs::path dir = root / folder;
  ExpectedDomains e;
  e.domains = {"art", "clipart", "product", "real_world"};
  const std::vector<std::string> folders = {"Alarm_Clock", "Backpack", "Batteries", "Bed", "Bike"};  // sorted
  for (const auto& f : folders) {
    std::string lower = f;
    for (char& ch : lower) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    e.classnames.push_back(lower);
  }
  const char* splits[] = {"train", "val"};
  for (size_t d = 0; d < 4; ++d) {
    DomainCounts n;
    for (int s = 0; s < 2; ++s)
      for (size_t c = 0; c < folders.size(); ++c)
        for (int i = 0; i < images_for(c, d, s); ++i) {
          const fs::path p = dir / e.domains[d] / splits[s] / folders[c] / fmt::format("{:05d}.jpg", i);
          image(p);
          e.label_of_path[p.string()] = int64_t(c);
          (s == 0 ? n.train : n.val) += 1;
        }
    n.test = n.train + n.val;
    e.counts.push_back(n);
  }
  return e;
}

// DomainNet: domainnet/<domain>/<class>/<file> with splits/<domain>_{train,test}.txt ("<rel> <label>",
// 0-based); painting's train file lacks the last class, as the real one lacks t-shirt.
inline ExpectedDomains domainnet(const fs::path& root) {
  const fs::path dir = root / "domainnet";
  ExpectedDomains e;
  e.domains = {"clipart", "infograph", "painting", "quickdraw", "real", "sketch"};
  e.classnames = {"aircraft_carrier", "airplane", "alarm_clock", "t-shirt"};
  const char* splits[] = {"train", "test"};
  for (size_t d = 0; d < e.domains.size(); ++d) {
    DomainCounts n;
    std::string files[2];
    for (int s = 0; s < 2; ++s)
      for (size_t c = 0; c < e.classnames.size(); ++c) {
        if (e.domains[d] == "painting" && s == 0 && c + 1 == e.classnames.size()) continue;
        for (int i = 0; i < images_for(c, d, s); ++i) {
          const std::string rel =
              fmt::format("{}/{}/{}_{:03d}_{:06d}.jpg", e.domains[d], e.classnames[c], e.domains[d], c, i);
          image(dir / rel);
          files[s] += fmt::format("{} {}\n", rel, c);
          e.label_of_path[(dir / rel).string()] = int64_t(c);
          (s == 0 ? n.train : n.test) += 1;
        }
      }
    n.val = n.test;
    e.counts.push_back(n);
    put_text(dir / "splits" / (e.domains[d] + "_train.txt"), files[0]);
    put_text(dir / "splits" / (e.domains[d] + "_test.txt"), files[1]);
  }
  return e;
}

}  // namespace clipt::test::dg_replicas
