#include "engine/io/atomic_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <system_error>

#include "engine/core/error.h"

namespace clipt::io {

namespace fs = std::filesystem;

namespace {

fs::path sibling(const fs::path& target, const char* what) {
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  return dir / fmt::format(".{}.{}-{}", target.filename().string(), what, ::getpid());
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);  // best effort: the new folder is already in place
}

}  // namespace

fs::path make_staging_directory(const fs::path& target) {
  const fs::path staged = sibling(target, "new");
  std::error_code ec;
  fs::remove_all(staged, ec);  // a leftover of this pid from a crashed run
  fs::create_directories(staged, ec);
  CLIPT_CHECK(!ec, "cannot create the folder {}: {}", staged.string(), ec.message());
  return staged;
}

void replace_directory(const fs::path& staged, const fs::path& target) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(target, ec);
  if (!fs::exists(st)) {
    fs::rename(staged, target, ec);
    CLIPT_CHECK(!ec, "cannot rename {} to {}: {}", staged.string(), target.string(), ec.message());
    return;
  }
  CLIPT_CHECK(fs::is_directory(st), "{} exists and is not a folder; move it away to write the new one there",
              target.string());
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    remove_quietly(staged);  // now holds the old folder
    return;
  }
  // No atomic exchange on this filesystem: move the old folder aside, then the new one in.
  const fs::path old = sibling(target, "old");
  remove_quietly(old);
  fs::rename(target, old, ec);
  CLIPT_CHECK(!ec, "cannot rename {} to {}: {}", target.string(), old.string(), ec.message());
  fs::rename(staged, target, ec);
  if (ec) {
    std::error_code back;
    fs::rename(old, target, back);  // put the old one back rather than leave nothing
    fail("cannot rename {} to {}: {}", staged.string(), target.string(), ec.message());
  }
  remove_quietly(old);
}

}  // namespace clipt::io
