// A small XML well-formedness check for the report's SVG pictures, independent of the code that writes
// them: every element closed in order, attributes quoted and not repeated, only the five predefined
// entities or numeric character references, one root element, no text outside it. Returns "" when the
// document is well-formed, else what is wrong and where.
#pragma once
#include <cctype>
#include <set>
#include <string>
#include <vector>

namespace clipt::test {

inline std::string xml_error(const std::string& doc) {
  std::vector<std::string> open;
  size_t i = 0, roots = 0;
  auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' || c == '.';
  };
  auto check_text = [&](size_t from, size_t to) -> std::string {
    for (size_t k = from; k < to; ++k) {
      if (doc[k] == '<') return "stray '<' at " + std::to_string(k);
      if (doc[k] != '&') continue;
      const size_t semi = doc.find(';', k);
      if (semi == std::string::npos || semi > to) return "unterminated entity at " + std::to_string(k);
      const std::string ent = doc.substr(k + 1, semi - k - 1);
      static const std::set<std::string> known{"amp", "lt", "gt", "quot", "apos"};
      if (!known.count(ent) && !(ent.size() > 1 && ent[0] == '#'))
        return "unknown entity &" + ent + "; at " + std::to_string(k);
      k = semi;
    }
    return "";
  };
  while (i < doc.size()) {
    const size_t lt = doc.find('<', i);
    const size_t text_end = lt == std::string::npos ? doc.size() : lt;
    const std::string text = doc.substr(i, text_end - i);
    if (open.empty() && text.find_first_not_of(" \t\r\n") != std::string::npos)
      return "text outside the root element at " + std::to_string(i);
    if (auto e = check_text(i, text_end); !e.empty()) return e;
    if (lt == std::string::npos) break;
    if (doc.compare(lt, 4, "<!--") == 0) {
      const size_t end = doc.find("-->", lt);
      if (end == std::string::npos) return "unterminated comment";
      i = end + 3;
      continue;
    }
    if (doc.compare(lt, 2, "<?") == 0) {
      const size_t end = doc.find("?>", lt);
      if (end == std::string::npos) return "unterminated declaration";
      i = end + 2;
      continue;
    }
    size_t k = lt + 1;
    const bool closing = k < doc.size() && doc[k] == '/';
    if (closing) ++k;
    const size_t name_start = k;
    while (k < doc.size() && name_char(doc[k])) ++k;
    const std::string name = doc.substr(name_start, k - name_start);
    if (name.empty()) return "tag without a name at " + std::to_string(lt);
    if (closing) {
      while (k < doc.size() && std::isspace(static_cast<unsigned char>(doc[k]))) ++k;
      if (k >= doc.size() || doc[k] != '>') return "bad closing tag </" + name + " at " + std::to_string(lt);
      if (open.empty() || open.back() != name)
        return "</" + name + "> does not close <" + (open.empty() ? std::string("nothing") : open.back()) + ">";
      open.pop_back();
      i = k + 1;
      continue;
    }
    std::set<std::string> attrs;
    for (;;) {
      while (k < doc.size() && std::isspace(static_cast<unsigned char>(doc[k]))) ++k;
      if (k >= doc.size()) return "unterminated tag <" + name;
      if (doc[k] == '>' || doc.compare(k, 2, "/>") == 0) break;
      const size_t a = k;
      while (k < doc.size() && name_char(doc[k])) ++k;
      const std::string attr = doc.substr(a, k - a);
      if (attr.empty() || k >= doc.size() || doc[k] != '=')
        return "bad attribute in <" + name + "> at " + std::to_string(a);
      if (!attrs.insert(attr).second) return "attribute " + attr + " repeated in <" + name + ">";
      ++k;
      if (k >= doc.size() || (doc[k] != '"' && doc[k] != '\''))
        return "unquoted attribute " + attr + " in <" + name + ">";
      const char q = doc[k];
      const size_t end = doc.find(q, k + 1);
      if (end == std::string::npos) return "unterminated attribute " + attr;
      if (auto e = check_text(k + 1, end); !e.empty()) return e;
      k = end + 1;
    }
    if (open.empty() && ++roots > 1) return "more than one root element";
    if (doc[k] == '/') {
      i = k + 2;
    } else {
      open.push_back(name);
      i = k + 1;
    }
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  if (roots != 1) return "no root element";
  return "";
}

}  // namespace clipt::test
