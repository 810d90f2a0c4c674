#include "methods/report/report_document.h"

#include <fmt/core.h>

#include "methods/report/svg_chart.h"

namespace clipt::report {

void Document::heading(int level, std::string text) {
  DocBlock b;
  b.kind = DocBlock::Kind::Heading;
  b.level = level;
  b.text = std::move(text);
  blocks.push_back(std::move(b));
}

void Document::paragraph(std::string text) {
  DocBlock b;
  b.kind = DocBlock::Kind::Paragraph;
  b.text = std::move(text);
  blocks.push_back(std::move(b));
}

void Document::table(DocTable t) {
  DocBlock b;
  b.kind = DocBlock::Kind::Table;
  b.table = std::move(t);
  blocks.push_back(std::move(b));
}

void Document::picture(DocPicture p) {
  DocBlock b;
  b.kind = DocBlock::Kind::Picture;
  b.picture = std::move(p);
  blocks.push_back(std::move(b));
}

std::vector<const DocPicture*> Document::pictures() const {
  std::vector<const DocPicture*> out;
  for (const DocBlock& b : blocks)
    if (b.kind == DocBlock::Kind::Picture) out.push_back(&b.picture);
  return out;
}

namespace {

bool is_bold(const DocTable& t, size_t row) { return row < t.bold.size() && t.bold[row]; }

// A Markdown table cell: pipes escaped.
std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

// Plain text to HTML, with `code` spans.
std::string html_text(const std::string& s) {
  std::string out;
  bool code = false;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '`') {
      out += xml_escape(s.substr(start, i - start));
      if (i < s.size()) out += (code = !code) ? "<code>" : "</code>";
      start = i + 1;
    }
  }
  if (code) out += "</code>";
  return out;
}

// The SVG for inline use in HTML: the namespace declaration is implied there, so the page names no URL.
std::string inline_svg(const std::string& svg) {
  std::string out = svg;
  const std::string ns = " xmlns=\"http://www.w3.org/2000/svg\"";
  for (size_t at = out.find(ns); at != std::string::npos; at = out.find(ns)) out.erase(at, ns.size());
  return out;
}

constexpr const char* kStyle =
    R"(body{font-family:sans-serif;max-width:1180px;margin:24px auto;padding:0 16px;color:#222}
h1{font-size:24px}h2{font-size:20px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}h3{font-size:16px}
table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #ccc;padding:3px 9px;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f2f2f2}tr.avg td{font-weight:bold;background:#fafafa}
figure{margin:8px 0 20px;overflow-x:auto}figcaption{color:#555;font-size:13px}code{background:#f4f4f4;padding:0 3px}
p{line-height:1.45})";

}  // namespace

std::string render_markdown(const Document& doc, const std::string& pictures_dir) {
  std::string out = "# " + doc.title + "\n";
  for (const DocBlock& b : doc.blocks) {
    switch (b.kind) {
      case DocBlock::Kind::Heading: out += "\n" + std::string(size_t(b.level), '#') + " " + b.text + "\n"; break;
      case DocBlock::Kind::Paragraph: out += "\n" + b.text + "\n"; break;
      case DocBlock::Kind::Table: {
        const DocTable& t = b.table;
        out += "\n|";
        for (const auto& h : t.header) out += " " + md_cell(h) + " |";
        out += "\n|";
        for (size_t i = 0; i < t.header.size(); ++i) out += "---|";
        out += "\n";
        for (size_t r = 0; r < t.rows.size(); ++r) {
          out += "|";
          for (size_t c = 0; c < t.rows[r].size(); ++c) {
            const std::string cell = md_cell(t.rows[r][c]);
            out += " " + (is_bold(t, r) && !cell.empty() ? "**" + cell + "**" : cell) + " |";
          }
          out += "\n";
        }
        break;
      }
      case DocBlock::Kind::Picture:
        out += fmt::format("\n![{}]({}/{})\n", b.picture.caption, pictures_dir, b.picture.file);
        break;
    }
  }
  return out;
}

std::string render_html(const Document& doc) {
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
      "charset=\"utf-8\">\n<title>{}</title>\n<style>\n{}\n</style>\n"
      "</head>\n<body>\n<h1>{}</h1>\n",
      xml_escape(doc.title), kStyle, xml_escape(doc.title));
  for (const DocBlock& b : doc.blocks) {
    switch (b.kind) {
      case DocBlock::Kind::Heading: out += fmt::format("<h{0}>{1}</h{0}>\n", b.level, html_text(b.text)); break;
      case DocBlock::Kind::Paragraph: out += "<p>" + html_text(b.text) + "</p>\n"; break;
      case DocBlock::Kind::Table: {
        const DocTable& t = b.table;
        out += "<table>\n<tr>";
        for (const auto& h : t.header) out += "<th>" + html_text(h) + "</th>";
        out += "</tr>\n";
        for (size_t r = 0; r < t.rows.size(); ++r) {
          out += is_bold(t, r) ? "<tr class=\"avg\">" : "<tr>";
          for (const auto& cell : t.rows[r]) out += "<td>" + html_text(cell) + "</td>";
          out += "</tr>\n";
        }
        out += "</table>\n";
        break;
      }
      case DocBlock::Kind::Picture:
        out += "<figure>\n" + inline_svg(b.picture.svg) + "<figcaption>" + html_text(b.picture.caption) +
               "</figcaption>\n</figure>\n";
        break;
    }
  }
  return out + "</body>\n</html>\n";
}

}  // namespace clipt::report
