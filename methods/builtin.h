// The methods that ship with clipt. Adding a method: a folder under methods/ with a
// `register_<name>()` function, and one line in builtin.cpp.
#pragma once

namespace clipt::methods {

void register_builtin_methods();

void register_zeroshot();
void register_coop();
void register_kgcoop();
void register_cocoop();
void register_ivlp();
void register_maple();
void register_metaprompt();  // MetaPrompt (alias Meta_B2N) and MetaPrompt_DG (alias Meta_DG)
void register_gcscoop();     // GCSCoOp (alias SharpCoOp) and SCoOp
void register_prograd();
void register_dpc();  // DPC (alias StackSPLE_CoOp): a second stage over any method with prompt slots

}  // namespace clipt::methods
