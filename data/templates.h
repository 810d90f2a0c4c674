// Hand-made text templates for zero-shot classifiers and frozen text features, as data.
//
//  - CoOp's CUSTOM_TEMPLATES (trainers/zsclip.py): one template per dataset, used by zero-shot CLIP and
//    DPC's spec (dpc.md §6.4);
//  - KgCoOp's (htyao89/KgCoOp trainers/kgcoop.py): CoOp's except DTD, for its frozen text features;
//  - ProGrad's (BeierZhu/Prompt-align trainers/prograd.py): its zero-shot teacher and, without " {}.",
//    the words its context is initialised from.
//  - ZeroshotCLIP2's 7 "select" ImageNet templates (averaged text features).
//  - MetaPrompt's frozen-branch templates (metaprompt.md §1.3): the 8-template ImageNet ensemble and one
//    template per dataset, written without a trailing period.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace clipt::data {

// CoOp's template for a dataset, looked up by registry name ("oxford_pets") or Dassl name
// ("OxfordPets"); ImageNet's variants use ImageNet's. Unknown datasets get "a photo of a {}.".
const std::string& coop_template(std::string_view dataset);
// Whether `dataset` has an entry of its own in CoOp's table (or is an ImageNet variant).
bool has_coop_template(std::string_view dataset);
// KgCoOp's template: CoOp's, except "a photo of a {}, a type of texture." for DTD.
const std::string& kgcoop_template(std::string_view dataset);
// ProGrad's template ("a type of pet, a photo of a {}." for OxfordPets, "a texture of {}." for DTD, ...);
// unknown datasets get "a photo of a {}.".
const std::string& prograd_template(std::string_view dataset);

// ZeroshotCLIP2's IMAGENET_TEMPLATES_SELECT (7 templates).
const std::vector<std::string>& imagenet_select_templates();

// MetaPrompt's frozen-branch templates: 8 for ImageNet and its variants, one for the other datasets
// (and "a photo of a {}" for the DG sets and unknown datasets).
const std::vector<std::string>& metaprompt_templates(std::string_view dataset);

// The class name as it goes into a prompt: CoOp replaces "_" by " ".
std::string prompt_classname(std::string_view classname);
// How a class name goes into a template: with "_" → " " (CoOp and most peers), or as the dataset names it
// (MetaPrompt's frozen classifier W0 formats the raw Dassl class names, underscores kept).
enum class ClassNameForm { Spaced, Raw };
// Fills every "{}" in `tmpl` with the class name in form `form`.
std::string fill_template(std::string_view tmpl, std::string_view classname,
                          ClassNameForm form = ClassNameForm::Spaced);

}  // namespace clipt::data
