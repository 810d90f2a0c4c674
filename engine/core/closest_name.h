// "Did you mean ...?" for names typed by users (commands, methods): the candidate at the smallest
// case-insensitive edit distance (Levenshtein: insertions, deletions, substitutions), the first on a tie.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace clipt {

size_t edit_distance_ignoring_case(std::string_view a, std::string_view b);
// "" when `candidates` is empty.
std::string closest_name(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace clipt
