// The classes of a world benchmark: (colour, shape) pairs, labelled so that CoOp's base/new rule (labels
// sorted, base = the first ceil(C/2), new = the rest) puts whole attribute combinations in the new half while
// every colour and every shape still occurs among the base classes. New-class accuracy then measures
// compositional transfer: "red square" is new, but "red" (as in "red circle") and "square" (as in
// "orange square") were both seen in base.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "data/world/attributes.h"

namespace clipt::world {

struct WorldClass {
  int label = 0;
  Colour colour = Colour::Red;
  Shape shape = Shape::Circle;
  bool base = true;
  std::string name;    // "red circle": what prompts say
  std::string folder;  // "red_circle": the image folder
};

struct ClassSet {
  std::vector<Colour> colours;
  std::vector<Shape> shapes;
};

// The default benchmark's 8 colours × 8 shapes.
ClassSet default_class_set();

// All colours × shapes of `set`. A pair (colour i, shape j) — indices into the set's lists — is a base
// class when i + j is even (a checkerboard), so each colour is base with about half the shapes and vice
// versa. Labels: base classes first, in (colour, shape) order, then the new ones; there are exactly
// ceil(C/2) base classes, so the split agrees with CoOp's rule. Needs ≥ 2 colours and ≥ 2 shapes, no repeats.
std::vector<WorldClass> make_classes(const ClassSet& set);

// The (colour, shape) pairs of the new classes: what pretraining holds out by default.
std::vector<std::pair<Colour, Shape>> new_class_pairs(const std::vector<WorldClass>& classes);

std::string class_name(Colour colour, Shape shape);    // "red circle"
std::string class_folder(Colour colour, Shape shape);  // "red_circle"

}  // namespace clipt::world
