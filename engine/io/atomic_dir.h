// Atomic replacement of a whole folder: a set of files that belong together (a report's pictures) is
// written into a staging folder beside the target, then swapped in with one rename, so a reader sees the
// old set or the new one, never a mix, and no file of the old set outlives it.
#pragma once
#include <filesystem>

namespace clipt::io {

// A fresh, empty staging folder next to `target` (same filesystem, a name that cannot clash with another
// process's); the caller fills it and passes it to replace_directory.
std::filesystem::path make_staging_directory(const std::filesystem::path& target);

// Puts `staged` in place of `target` and removes what `target` held. Where the filesystem can exchange two
// names atomically (Linux renameat2 RENAME_EXCHANGE) there is no moment without a `target`; elsewhere the
// old folder is renamed aside first. `target` that exists and is not a folder is an Error naming it.
void replace_directory(const std::filesystem::path& staged, const std::filesystem::path& target);

}  // namespace clipt::io
