#include "methods/builtin.h"

namespace clipt::methods {

void register_builtin_methods() {
  register_zeroshot();
  register_coop();
  register_kgcoop();
  register_cocoop();
}

}  // namespace clipt::methods
