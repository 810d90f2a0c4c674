// The report as a small document model (headings, paragraphs, tables, pictures), rendered twice: as
// Markdown that links its pictures (report-files/*.svg beside it) and as one self-contained HTML page that
// carries them inline (no external URL, no script, no stylesheet fetched).
#pragma once
#include <string>
#include <vector>

namespace clipt::report {

struct DocTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> bold;  // per row (the average rows); shorter than rows: the rest plain
};

struct DocPicture {
  std::string file;  // name under the pictures folder, e.g. "b2n-average.svg"
  std::string svg;   // the SVG document
  std::string caption;
};

struct DocBlock {
  enum class Kind { Heading, Paragraph, Table, Picture } kind = Kind::Paragraph;
  int level = 2;     // heading level
  std::string text;  // heading or paragraph text (plain; `code` spans allowed)
  DocTable table;
  DocPicture picture;
};

struct Document {
  std::string title;
  std::vector<DocBlock> blocks;
  void heading(int level, std::string text);
  void paragraph(std::string text);
  void table(DocTable t);
  void picture(DocPicture p);
  std::vector<const DocPicture*> pictures() const;
};

// `pictures_dir` is the folder name the Markdown links the pictures under (relative to the .md file).
std::string render_markdown(const Document& doc, const std::string& pictures_dir);
std::string render_html(const Document& doc);

}  // namespace clipt::report
