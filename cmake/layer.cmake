# c10k_layer(NAME DEPS...): one static library per src/ folder, its sources picked up by glob
# so that adding a file needs no CMake edit. A folder with no sources yet is an interface library.
function(c10k_layer name)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(sources)
    add_library(c10k_${name} STATIC ${sources})
    target_link_libraries(c10k_${name} PUBLIC ${ARGN})
    target_include_directories(c10k_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  else()
    add_library(c10k_${name} INTERFACE)
    target_link_libraries(c10k_${name} INTERFACE ${ARGN})
    target_include_directories(c10k_${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
  endif()
endfunction()
