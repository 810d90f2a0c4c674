// The built-in world's benchmarks as named datasets, so `DATASET.NAME world` works like any CoOp dataset:
//   world           <root>/world/images + split_world.json (CoOp split-JSON layout, 64 classes)
//   world_<style>   <root>/world_<style>/... single-style copies for cross-domain evaluation (test only)
#pragma once

namespace clipt::world {

// Registers the readers with the data registry (idempotent).
void register_world_datasets();

}  // namespace clipt::world
