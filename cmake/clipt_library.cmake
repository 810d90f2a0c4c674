# Helpers shared by the folder CMakeLists: one static library per layer, sources globbed so that adding
# a file needs no CMake edit.
set(CLIPT_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)

function(clipt_glob_sources out)
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS ${ARGN})
  set(${out} ${_srcs} PARENT_SCOPE)
endfunction()

function(clipt_common_options target)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${CLIPT_WARNINGS}>)
  if(CLIPT_CUDA)
    target_compile_definitions(${target} PUBLIC CLIPT_WITH_CUDA=1)
  endif()
endfunction()
