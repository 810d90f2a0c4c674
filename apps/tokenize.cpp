// `clipt tokenize (--model DIR | --vocab FILE) TEXT...`: one line per text with the token ids,
// start and end tokens included, space-separated, no padding and no truncation.
#include <fmt/core.h>

#include "apps/args.h"
#include "apps/commands.h"
#include "models/clip/tokenizer.h"

namespace clipt::apps {

int cmd_tokenize(const CommandArgs& argv) {
  Args args(argv);
  args.check_known({"model", "vocab"});
  const auto model = args.get("model"), vocab = args.get("vocab");
  CLIPT_CHECK(model.has_value() != vocab.has_value(), "tokenize: pass exactly one of --model DIR or --vocab FILE");
  const clip::Tokenizer tok = model ? clip::Tokenizer::from_hf_dir(*model) : clip::Tokenizer::from_path(*vocab);
  CLIPT_CHECK(!args.positionals().empty(), "tokenize: no text given");
  for (const auto& text : args.positionals()) fmt::print("{}\n", fmt::join(tok.tokenize(text), " "));
  return 0;
}

}  // namespace clipt::apps
