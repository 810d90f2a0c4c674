#include "data/world/classes.h"

#include <algorithm>

#include "engine/core/error.h"

namespace clipt::world {

ClassSet default_class_set() {
  return {{Colour::Red, Colour::Orange, Colour::Yellow, Colour::Green, Colour::Blue, Colour::Purple, Colour::Pink,
           Colour::Brown},
          {Shape::Circle, Shape::Square, Shape::Triangle, Shape::Star, Shape::Hexagon, Shape::Cross, Shape::Heart,
           Shape::Diamond}};
}

std::string class_name(Colour colour, Shape shape) {
  return std::string(colour_name(colour)) + " " + std::string(shape_name(shape));
}

std::string class_folder(Colour colour, Shape shape) {
  return std::string(colour_name(colour)) + "_" + std::string(shape_name(shape));
}

std::vector<WorldClass> make_classes(const ClassSet& set) {
  CLIPT_CHECK(set.colours.size() >= 2 && set.shapes.size() >= 2,
              "world classes: need at least 2 colours and 2 shapes (so every attribute can be both base and new), "
              "got {} colours and {} shapes",
              set.colours.size(), set.shapes.size());
  for (size_t i = 0; i < set.colours.size(); ++i)
    CLIPT_CHECK(std::count(set.colours.begin(), set.colours.end(), set.colours[i]) == 1,
                "world classes: colour '{}' is listed twice", colour_name(set.colours[i]));
  for (size_t i = 0; i < set.shapes.size(); ++i)
    CLIPT_CHECK(std::count(set.shapes.begin(), set.shapes.end(), set.shapes[i]) == 1,
                "world classes: shape '{}' is listed twice", shape_name(set.shapes[i]));
  std::vector<WorldClass> base, novel;
  for (size_t i = 0; i < set.colours.size(); ++i)
    for (size_t j = 0; j < set.shapes.size(); ++j) {
      WorldClass c;
      c.colour = set.colours[i];
      c.shape = set.shapes[j];
      c.base = (i + j) % 2 == 0;
      c.name = class_name(c.colour, c.shape);
      c.folder = class_folder(c.colour, c.shape);
      (c.base ? base : novel).push_back(c);
    }
  std::vector<WorldClass> classes = base;
  classes.insert(classes.end(), novel.begin(), novel.end());
  for (size_t k = 0; k < classes.size(); ++k) classes[k].label = int(k);
  return classes;
}

std::vector<std::pair<Colour, Shape>> new_class_pairs(const std::vector<WorldClass>& classes) {
  std::vector<std::pair<Colour, Shape>> pairs;
  for (const WorldClass& c : classes)
    if (!c.base) pairs.emplace_back(c.colour, c.shape);
  return pairs;
}

}  // namespace clipt::world
