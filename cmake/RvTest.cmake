# rv_unit_test(NAME SOURCES src... [LIBS lib...] [LABEL unit|sim|integration] [TIMEOUT s])
# One cmocka (or plain C) program per tested file, registered with ctest under a label, so
# `ctest -L unit` runs the fast tests alone.
function(rv_unit_test name)
  cmake_parse_arguments(T "" "LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT T_LABEL)
    set(T_LABEL unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${name} ${T_SOURCES})
  foreach(src ${T_SOURCES})
    get_filename_component(abs ${src} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    set_property(GLOBAL APPEND PROPERTY RV_TEST_SOURCES ${abs})
  endforeach()
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT})
endfunction()

# rv_check_tests_registered(DIR...): fails the configure step when a test program's source
# (tests/test_*.c or tests/*_test.c under the given directories) is part of no rv_unit_test: a
# test that is never built never fails.
function(rv_check_tests_registered)
  get_property(registered GLOBAL PROPERTY RV_TEST_SOURCES)
  foreach(dir ${ARGN})
    file(GLOB_RECURSE found ${CMAKE_SOURCE_DIR}/${dir}/tests/test_*.c
         ${CMAKE_SOURCE_DIR}/${dir}/tests/*_test.c)
    foreach(f ${found})
      list(FIND registered ${f} at)
      if(at EQUAL -1)
        message(FATAL_ERROR "${f}: a test source that no rv_unit_test builds (register it in "
                            "its component's CMakeLists.txt)")
      endif()
    endforeach()
  endforeach()
endfunction()
