// The vocabulary of the built-in world: the attributes an object can have (shape, colour, size, pattern),
// the backgrounds and render styles, and the words captions use for each. Everything that names an
// attribute lives here so that the renderer, the captions, the class names and the tokenizer corpus agree.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace clipt::world {

// Bumped whenever a change alters the bytes of any rendered image, caption or written file, so that a
// benchmark folder written by an older generator is recognised as different (see benchmark.h).
inline constexpr int kGeneratorVersion = 1;

struct Rgb {
  float r = 0, g = 0, b = 0;  // 0..255
};

enum class Shape : uint8_t { Circle, Square, Triangle, Star, Hexagon, Cross, Heart, Diamond, Crescent, Ring };
inline constexpr int kNumShapes = 10;

// Object colours. The first eight are the default benchmark's; cyan and black only appear in pretraining
// and in benchmarks that ask for them.
enum class Colour : uint8_t { Red, Orange, Yellow, Green, Blue, Purple, Pink, Brown, Cyan, Black };
inline constexpr int kNumColours = 10;

enum class Size : uint8_t { Small, Medium, Large };
inline constexpr int kNumSizes = 3;

enum class Pattern : uint8_t { Plain, Striped, Dotted, Checkered, Wavy };
inline constexpr int kNumPatterns = 5;

// Render styles are the world's domains (issue 11): the same scene drawn five ways.
enum class Style : uint8_t { Photo, Sketch, Cartoon, Texture, Noisy };
inline constexpr int kNumStyles = 5;

enum class BackgroundKind : uint8_t { Plain, Gradient, Mottled, Table };
inline constexpr int kNumBackgroundKinds = 4;
inline constexpr int kNumBackgroundColours = 9;

// Nine coarse positions on a 3×3 grid, row-major from the top left; used in captions.
inline constexpr int kNumPositions = 9;

std::string_view shape_name(Shape s);
std::string_view colour_name(Colour c);
std::string_view size_name(Size s);
std::string_view pattern_name(Pattern p);            // "plain", "striped", "dotted", "checkered", "wavy"
std::string_view style_name(Style s);                // "photo", "sketch", "cartoon", "texture", "noisy"
std::string_view background_colour_name(int index);  // "white", "light grey", ...
std::string_view position_phrase(int position);      // "in the top left", "on the left", "in the center", ...

// Reference colours (sRGB, 0..255). Rendered objects jitter around these.
Rgb colour_rgb(Colour c);
Rgb background_rgb(int index);

// Parse names back (the CLI and benchmark specs use names); throws clipt::Error naming the bad value.
Shape parse_shape(std::string_view name);
Colour parse_colour(std::string_view name);
Style parse_style(std::string_view name);

}  // namespace clipt::world
