# Third-party dependencies. Boost (Beast, Asio, JSON, URL) and OpenSSL stay behind the
# implementation: no public header includes them.
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json url)
find_package(OpenSSL 3 REQUIRED)
find_package(SQLite3 REQUIRED)

# Compile Asio and Beast once per target in a .cpp of their own instead of in every TU.
add_library(hues_boost_private INTERFACE)
target_link_libraries(hues_boost_private INTERFACE
  Boost::headers Boost::json Boost::url OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
target_compile_definitions(hues_boost_private INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED)

function(hues_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()
