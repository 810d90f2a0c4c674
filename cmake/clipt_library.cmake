# Helpers shared by the folder CMakeLists: one static library per layer, sources globbed so that adding
# a file needs no CMake edit.
set(CLIPT_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)

function(clipt_glob_sources out)
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS ${ARGN})
  set(${out} ${_srcs} PARENT_SCOPE)
endfunction()

# The layers, bottom first. A layer may include only its own folder and the ones listed before it.
set(CLIPT_LAYERS kernels engine data models methods apps)

# The include root a layer's target compiles with: a folder in the build tree holding links to the layer's
# own folder and the ones below it, so an #include that points up a layer does not compile.
function(clipt_layer_include_root out layer)
  list(FIND CLIPT_LAYERS ${layer} _index)
  if(_index LESS 0)
    message(FATAL_ERROR "clipt: unknown layer '${layer}'")
  endif()
  set(_root ${PROJECT_BINARY_DIR}/layer_includes/${layer})
  file(MAKE_DIRECTORY ${_root})
  foreach(_i RANGE ${_index})
    list(GET CLIPT_LAYERS ${_i} _folder)
    if(NOT EXISTS ${_root}/${_folder})
      file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${_folder} ${_root}/${_folder} SYMBOLIC)
    endif()
  endforeach()
  set(${out} ${_root} PARENT_SCOPE)
endfunction()

# Options of a layer's library: include root limited to the layer and those below it.
function(clipt_layer_options target layer)
  clipt_layer_include_root(_root ${layer})
  target_include_directories(${target} PUBLIC ${_root})
  clipt_compile_options(${target})
endfunction()

# Options of tests, benchmarks and fuzzers: they may include every layer.
function(clipt_common_options target)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  clipt_compile_options(${target})
endfunction()

function(clipt_compile_options target)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${CLIPT_WARNINGS}>)
  if(CLIPT_CUDA)
    target_compile_definitions(${target} PUBLIC CLIPT_WITH_CUDA=1)
  endif()
endfunction()
