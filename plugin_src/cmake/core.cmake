# How every target that compiles the core (the Python bridge, the plugins, the C++ tests) compiles
# it: one place for the include path, the dependencies and the flags that are part of the core's
# contract. Included by the top-level CMakeLists.txt and by plugin_src/CMakeLists.txt.
#
#   ns_core_arch_flags(<out-var> <portable>)   -march=native, or the x86-64-v2 baseline when portable
#   ns_use_core(<target> [WITH_SOXR])           core headers, Eigen, nlohmann_json, core flags; with
#                                               WITH_SOXR also libsoxr (the effect chain's resampler)
set(NS_CORE_DIR "${CMAKE_CURRENT_LIST_DIR}/../core")
get_filename_component(NS_CORE_DIR "${NS_CORE_DIR}" ABSOLUTE)

function(ns_core_arch_flags out portable)
  if(portable)
    if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
      set(${out} -march=x86-64-v2 -mtune=generic PARENT_SCOPE)
    else()
      set(${out} "" PARENT_SCOPE)
    endif()
  else()
    set(${out} -march=native PARENT_SCOPE)
  endif()
endfunction()

function(ns_use_core target)
  cmake_parse_arguments(NS "WITH_SOXR" "" "" ${ARGN})
  target_include_directories(${target} PRIVATE "${NS_CORE_DIR}")
  target_link_libraries(${target} PRIVATE Eigen3::Eigen nlohmann_json::nlohmann_json)
  target_compile_definitions(${target} PRIVATE EIGEN_MPL2_ONLY)
  # Fused multiply-adds only where the code asks for them (core/simd.h): every build of the core,
  # bridge and plugins alike, then rounds identically, bit for bit.
  target_compile_options(${target} PRIVATE -ffp-contract=off)
  if(NS_WITH_SOXR)
    target_link_libraries(${target} PRIVATE PkgConfig::SOXR)
    target_compile_definitions(${target} PRIVATE NEURALSYNTH_WITH_SOXR=1)
  endif()
endfunction()
