# Writes the perf counter STRINGTABLE (perf_strings.rc) from installer/tlsbroker.man, so the
# names perfmon shows come from the one hand-written manifest and cannot drift from it.
# Usage: cmake -DMANIFEST=<tlsbroker.man> -DOUTPUT=<perf_strings.rc> -P perf_strings.cmake
#
# lodctr /m: does not store the strings: it records resource ids that consumers look up in
# the binary named by the manifest's applicationIdentity (tlsbroker.exe). The ids follow the
# numbering CTRPP uses from the manifest's resourceBase (1): per counter set, then per
# counter in document order, four ids each: name, name again, description, an empty string.
# So the counter set's name is 1 and its description 3; counter k's name is 5 + 4k and its
# description 7 + 4k.

file(READ "${MANIFEST}" text)
# ";" separates CMake list items: keep it out of the way while the tags are split.
string(REPLACE ";" "@semicolon@" text "${text}")

if(NOT text MATCHES "resourceBase=\"1\"")
  message(FATAL_ERROR "${MANIFEST}: the provider must declare resourceBase=\"1\"")
endif()

function(rc_string out value)
  string(REPLACE "@semicolon@" ";" value "${value}")
  string(REPLACE "&quot;" "\"" value "${value}")
  string(REPLACE "&apos;" "'" value "${value}")
  string(REPLACE "&lt;" "<" value "${value}")
  string(REPLACE "&gt;" ">" value "${value}")
  string(REPLACE "&amp;" "&" value "${value}")
  string(REPLACE "\"" "\"\"" value "${value}")
  set(${out} "\"${value}\"" PARENT_SCOPE)
endfunction()

function(attribute out tag name)
  if(NOT tag MATCHES "[ \t\r\n]${name}=\"([^\"]*)\"")
    message(FATAL_ERROR "${MANIFEST}: no ${name}= in ${tag}")
  endif()
  rc_string(value "${CMAKE_MATCH_1}")
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

string(REGEX MATCHALL "<counterSet[ \t\r\n][^>]*>" sets "${text}")
list(LENGTH sets set_count)
if(NOT set_count EQUAL 1)
  message(FATAL_ERROR "${MANIFEST}: expected one counterSet, found ${set_count}")
endif()
string(REGEX MATCHALL "<counter[ \t\r\n][^>]*>" counters "${text}")

set(rc "// Generated from installer/tlsbroker.man by service/windows/perf_strings.cmake.\n")
string(APPEND rc "STRINGTABLE\nBEGIN\n")
attribute(set_name "${sets}" name)
attribute(set_help "${sets}" description)
string(APPEND rc "  1 ${set_name}\n  2 ${set_name}\n  3 ${set_help}\n")
set(id 5)
set(previous -1)
foreach(tag IN LISTS counters)
  if(NOT tag MATCHES "[ \t\r\n]id=\"([0-9]+)\"" OR NOT CMAKE_MATCH_1 GREATER previous)
    message(FATAL_ERROR "${MANIFEST}: counters must be listed with increasing ids (after ${previous})")
  endif()
  set(previous ${CMAKE_MATCH_1})
  attribute(name "${tag}" name)
  attribute(help "${tag}" description)
  math(EXPR id_dup "${id} + 1")
  math(EXPR id_help "${id} + 2")
  string(APPEND rc "  ${id} ${name}\n  ${id_dup} ${name}\n  ${id_help} ${help}\n")
  math(EXPR id "${id} + 4")
endforeach()
string(APPEND rc "END\n")

# Rewrite only on change, so an unchanged manifest does not relink the exe.
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
  if(old STREQUAL rc)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${rc}")
