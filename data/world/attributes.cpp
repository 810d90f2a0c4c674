#include "data/world/attributes.h"

#include "engine/core/error.h"

namespace clipt::world {

namespace {

constexpr std::array<std::string_view, kNumShapes> kShapeNames = {"circle", "square", "triangle", "star",     "hexagon",
                                                                  "cross",  "heart",  "diamond",  "crescent", "ring"};
constexpr std::array<std::string_view, kNumColours> kColourNames = {"red",    "orange", "yellow", "green", "blue",
                                                                    "purple", "pink",   "brown",  "cyan",  "black"};
// Chosen far apart in hue or lightness so that the per-image jitter never makes one look like another.
constexpr std::array<Rgb, kNumColours> kColourRgb = {{{205, 35, 40},
                                                      {240, 130, 20},
                                                      {240, 208, 30},
                                                      {45, 160, 60},
                                                      {35, 85, 210},
                                                      {130, 55, 170},
                                                      {240, 120, 180},
                                                      {120, 75, 35},
                                                      {30, 195, 215},
                                                      {28, 28, 32}}};
constexpr std::array<std::string_view, kNumSizes> kSizeNames = {"small", "medium", "large"};
constexpr std::array<std::string_view, kNumPatterns> kPatternNames = {"plain", "striped", "dotted", "checkered",
                                                                      "wavy"};
constexpr std::array<std::string_view, kNumStyles> kStyleNames = {"photo", "sketch", "cartoon", "texture", "noisy"};
constexpr std::array<std::string_view, kNumBackgroundColours> kBackgroundNames = {
    "white", "light grey", "grey", "dark grey", "beige", "pale blue", "dark blue", "dark green", "black"};
constexpr std::array<Rgb, kNumBackgroundColours> kBackgroundRgb = {{{242, 242, 236},
                                                                    {205, 205, 200},
                                                                    {140, 140, 138},
                                                                    {70, 70, 72},
                                                                    {228, 212, 182},
                                                                    {185, 210, 235},
                                                                    {32, 42, 82},
                                                                    {36, 72, 46},
                                                                    {16, 16, 18}}};
constexpr std::array<std::string_view, kNumPositions> kPositionPhrases = {
    "in the top left", "at the top",         "in the top right", "on the left",        "in the center",
    "on the right",    "in the bottom left", "at the bottom",    "in the bottom right"};

template <typename Array> std::string_view at(const Array& names, int i, const char* what) {
  CLIPT_CHECK(i >= 0 && i < int(names.size()), "world: {} index {} out of range [0, {})", what, i, names.size());
  return names[size_t(i)];
}

template <typename Enum, typename Array> Enum parse(const Array& names, std::string_view name, const char* what) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return Enum(i);
  fail("world: unknown {} '{}' (known: {})", what, name, fmt::join(names, ", "));
}

}  // namespace

std::string_view shape_name(Shape s) { return at(kShapeNames, int(s), "shape"); }
std::string_view colour_name(Colour c) { return at(kColourNames, int(c), "colour"); }
std::string_view size_name(Size s) { return at(kSizeNames, int(s), "size"); }
std::string_view pattern_name(Pattern p) { return at(kPatternNames, int(p), "pattern"); }
std::string_view style_name(Style s) { return at(kStyleNames, int(s), "style"); }
std::string_view background_colour_name(int index) { return at(kBackgroundNames, index, "background colour"); }
std::string_view position_phrase(int position) { return at(kPositionPhrases, position, "position"); }

Rgb colour_rgb(Colour c) {
  at(kColourNames, int(c), "colour");
  return kColourRgb[size_t(c)];
}
Rgb background_rgb(int index) {
  at(kBackgroundNames, index, "background colour");
  return kBackgroundRgb[size_t(index)];
}

Shape parse_shape(std::string_view name) { return parse<Shape>(kShapeNames, name, "shape"); }
Colour parse_colour(std::string_view name) { return parse<Colour>(kColourNames, name, "colour"); }
Style parse_style(std::string_view name) { return parse<Style>(kStyleNames, name, "style"); }

}  // namespace clipt::world
