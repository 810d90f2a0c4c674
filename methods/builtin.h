// The methods that ship with clipt. Adding a method: a folder under methods/ with a
// `register_<name>()` function, and one line in builtin.cpp.
#pragma once

namespace clipt::methods {

void register_builtin_methods();

void register_zeroshot();
void register_coop();
void register_kgcoop();
void register_cocoop();

}  // namespace clipt::methods
