# `cmake --install` produces a package consumed by find_package(hues CONFIG) and
# target_link_libraries(app hues::sdk) (and hues::sandbox for in-process tests).
include(CMakePackageConfigHelpers)
set(HUES_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/hues)

set(_hues_install_targets hues_sdk)
if(TARGET hues_sandbox)
  list(APPEND _hues_install_targets hues_sandbox hues-sandbox)
endif()
install(TARGETS ${_hues_install_targets} EXPORT hues-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY sdk/include/hues DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The generated public headers (models.h, services.h) live in the build tree only.
install(DIRECTORY ${HUES_GENERATED_CPP_INCLUDE}/hues DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET hues_sandbox)
  install(DIRECTORY sandbox/include/hues DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()
install(EXPORT hues-targets NAMESPACE hues:: DESTINATION ${HUES_CMAKE_DIR})
configure_package_config_file(cmake/hues-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/hues-config.cmake INSTALL_DESTINATION ${HUES_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/hues-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/hues-config.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/hues-config-version.cmake DESTINATION ${HUES_CMAKE_DIR})
