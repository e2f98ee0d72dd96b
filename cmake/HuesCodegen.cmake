# docs/openapi.yaml -> generated sources in the build tree (never in the source tree).
# hues_codegen(<target> <files...>) runs `python -m hues_codegen --target <target>` into
# ${HUES_GENERATED_DIR}/<target> and defines the custom target hues_codegen_<target>.
find_package(Python 3.9 REQUIRED COMPONENTS Interpreter)

set(HUES_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)
file(GLOB_RECURSE HUES_CODEGEN_INPUTS CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/codegen/hues_codegen/*.py
  ${PROJECT_SOURCE_DIR}/codegen/templates/*)

function(hues_codegen target)
  set(out ${HUES_GENERATED_DIR}/${target})
  set(files)
  foreach(f IN LISTS ARGN)
    list(APPEND files ${out}/${f})
  endforeach()
  # The generator rewrites a file only when its text changes; the files are BYPRODUCTS so
  # Ninja re-checks their times (restat) and recompiles only what really changed.
  add_custom_command(
    OUTPUT ${out}/.stamp
    BYPRODUCTS ${files}
    COMMAND ${CMAKE_COMMAND} -E env PYTHONPATH=${PROJECT_SOURCE_DIR}/codegen
            ${Python_EXECUTABLE} -m hues_codegen --spec ${PROJECT_SOURCE_DIR}/docs/openapi.yaml
            --target ${target} --out ${out} --stamp ${out}/.stamp
    DEPENDS ${PROJECT_SOURCE_DIR}/docs/openapi.yaml ${HUES_CODEGEN_INPUTS}
    COMMENT "hues_codegen: ${target} from docs/openapi.yaml"
    VERBATIM)
  add_custom_target(hues_codegen_${target} DEPENDS ${out}/.stamp)
  set(HUES_GENERATED_${target} ${files} PARENT_SCOPE)
endfunction()

hues_codegen(cpp
  include/hues/models.h include/hues/services.h include/hues/errors.h src/internal/model_codec.h
  src/internal/calls.h src/internal/host_adapters.h src/models_json.cpp src/calls.cpp src/services.cpp
  src/errors.cpp)
set(HUES_GENERATED_CPP_INCLUDE ${HUES_GENERATED_DIR}/cpp/include)
set(HUES_GENERATED_CPP_SRC ${HUES_GENERATED_DIR}/cpp/src)

if(HUES_BUILD_SANDBOX)
  hues_codegen(sandbox routes.h routes.cpp)
endif()
