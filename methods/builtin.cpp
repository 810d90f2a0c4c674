#include "methods/builtin.h"

namespace clipt::methods {

void register_builtin_methods() {
  register_zeroshot();
  register_coop();
  register_kgcoop();
  register_cocoop();
  register_ivlp();
  register_maple();
  register_metaprompt();
  register_gcscoop();
  register_prograd();
  register_dpc();
}

}  // namespace clipt::methods
