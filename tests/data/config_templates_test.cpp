// Dassl INPUT.* keys → TransformConfig, and the hand-made template tables.
#include "data/data_config.h"
#include "data/templates.h"
#include "tests/data/data_test_util.h"

namespace clipt::data {
namespace {

// Dassl's defaults for the INPUT keys the pipeline reads (dassl/config/defaults.py).
Config dassl_input_defaults() {
  Config c;
  c.define("INPUT.SIZE", ConfigValue::list(std::vector<int64_t>{224, 224}));
  c.define("INPUT.INTERPOLATION", "bilinear");
  c.define("INPUT.TRANSFORMS", ConfigValue::list(std::vector<ConfigValue>{}));
  c.define("INPUT.PIXEL_MEAN", ConfigValue::list(std::vector<double>{0.485, 0.456, 0.406}));
  c.define("INPUT.PIXEL_STD", ConfigValue::list(std::vector<double>{0.229, 0.224, 0.225}));
  c.define("INPUT.RRCROP_SCALE", ConfigValue::list(std::vector<double>{0.08, 1.0}));
  return c;
}

TEST(DataConfig, CoOpYamlDrivesThePipeline) {
  Config c = dassl_input_defaults();
  // The INPUT section of CoOp's configs/trainers/CoOp/vit_b16.yaml.
  c.merge_from_yaml(R"(
INPUT:
  SIZE: (224, 224)
  INTERPOLATION: "bicubic"
  PIXEL_MEAN: [0.48145466, 0.4578275, 0.40821073]
  PIXEL_STD: [0.26862954, 0.26130258, 0.27577711]
  TRANSFORMS: ["random_resized_crop", "random_flip", "normalize"]
)",
                    "vit_b16.yaml");
  const TransformConfig t = transform_config_from(c);
  EXPECT_EQ(t.height, 224);
  EXPECT_EQ(t.width, 224);
  EXPECT_EQ(t.interpolation, Interpolation::Bicubic);
  EXPECT_EQ(t.mean, kClipMean);
  EXPECT_EQ(t.std, kClipStd);
  EXPECT_EQ(t.transforms, (std::vector<std::string>{"random_resized_crop", "random_flip", "normalize"}));

  c.merge_from_list({"INPUT.SIZE", "(32, 48)", "INPUT.RRCROP_SCALE", "(0.5, 1.0)"});
  const TransformConfig s = transform_config_from(c);
  EXPECT_EQ(s.height, 32);
  EXPECT_EQ(s.width, 48);
  EXPECT_EQ(s.rrc_scale_min, 0.5);

  c.merge_from_list({"INPUT.INTERPOLATION", "lanczos"});
  EXPECT_ERROR_CONTAINS(transform_config_from(c), "lanczos");
  c.merge_from_list({"INPUT.INTERPOLATION", "bicubic", "INPUT.TRANSFORMS", "['randaug']"});
  EXPECT_ERROR_CONTAINS(transform_config_from(c), "randaug");
  c.merge_from_list({"INPUT.TRANSFORMS", "['normalize']", "INPUT.SIZE", "(224,)"});
  EXPECT_ERROR_CONTAINS(transform_config_from(c), "INPUT.SIZE");
  // Keys the config does not define keep the pipeline defaults.
  EXPECT_EQ(transform_config_from(Config{}).interpolation, Interpolation::Bicubic);
}

TEST(Templates, CoOpCustomTemplates) {
  EXPECT_EQ(coop_template("oxford_pets"), "a photo of a {}, a type of pet.");
  EXPECT_EQ(coop_template("OxfordPets"), "a photo of a {}, a type of pet.");
  EXPECT_EQ(coop_template("dtd"), "{} texture.");
  EXPECT_EQ(coop_template("eurosat"), "a centered satellite photo of {}.");
  EXPECT_EQ(coop_template("food101"), "a photo of {}, a type of food.");
  EXPECT_EQ(coop_template("fgvc_aircraft"), "a photo of a {}, a type of aircraft.");
  EXPECT_EQ(coop_template("oxford_flowers"), "a photo of a {}, a type of flower.");
  EXPECT_EQ(coop_template("ucf101"), "a photo of a person doing {}.");
  for (const char* d : {"stanford_cars", "sun397", "caltech101", "imagenet", "imagenetv2", "imagenet_sketch",
                        "imagenet_a", "imagenet_r"}) {
    EXPECT_EQ(coop_template(d), "a photo of a {}.") << d;
    EXPECT_TRUE(has_coop_template(d)) << d;
  }
  EXPECT_FALSE(has_coop_template("my_data"));
  EXPECT_EQ(coop_template("my_data"), "a photo of a {}.");
}

TEST(Templates, EnsemblesAndFilling) {
  ASSERT_EQ(imagenet_select_templates().size(), 7u);
  EXPECT_EQ(imagenet_select_templates()[0], "itap of a {}.");
  ASSERT_EQ(metaprompt_templates("imagenet_r").size(), 8u);
  EXPECT_EQ(metaprompt_templates("ImageNet")[7], "a photo of a {}");
  EXPECT_EQ(metaprompt_templates("food101"), (std::vector<std::string>{"a photo of a {}, a type of food"}));
  EXPECT_EQ(metaprompt_templates("pacs"), (std::vector<std::string>{"a photo of a {}"}));
  EXPECT_EQ(fill_template(coop_template("dtd"), "bubbly"), "bubbly texture.");
  EXPECT_EQ(fill_template("a photo of a {}.", "Apply_Eye_Makeup"), "a photo of a Apply Eye Makeup.");
  EXPECT_EQ(fill_template("{} and {}", "x_y"), "x y and x y");
}

}  // namespace
}  // namespace clipt::data
