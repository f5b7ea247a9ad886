# embed.cmake - write a C file holding every console file of DIR (issue 11):
# their names, content types and bytes, for node/console.c to serve.
#   cmake -DDIR=node/console -DOUT=console_files.c -P embed.cmake
# Only .html, .js, .css and .svg files are taken (this script is not);
# the bytes go out as hex, NUL-terminated, so any content survives.
if(NOT DEFINED DIR OR NOT DEFINED OUT)
  message(FATAL_ERROR "usage: cmake -DDIR=<dir> -DOUT=<file.c> -P embed.cmake")
endif()
file(GLOB files RELATIVE "${DIR}" "${DIR}/*.html" "${DIR}/*.js" "${DIR}/*.css" "${DIR}/*.svg")
list(SORT files)
set(sixteen "")
foreach(i RANGE 15)
  string(APPEND sixteen "0x[0-9a-f][0-9a-f],")
endforeach()
set(arrays "")
set(table "")
set(i 0)
foreach(f IN LISTS files)
  if(NOT f MATCHES "^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    message(FATAL_ERROR "console file name not allowed: ${f}")
  endif()
  file(READ "${DIR}/${f}" hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(${sixteen})" "\\1\n    " bytes "${bytes}")
  if(f MATCHES "\\.html$")
    set(type "text/html; charset=utf-8")
  elseif(f MATCHES "\\.js$")
    set(type "text/javascript; charset=utf-8")
  elseif(f MATCHES "\\.css$")
    set(type "text/css; charset=utf-8")
  else()
    set(type "image/svg+xml")
  endif()
  string(APPEND arrays "static const unsigned char f${i}[] = {\n    ${bytes}0x00};\n")
  string(APPEND table "    {\"${f}\", \"${type}\", f${i}, ${len}},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE "${OUT}.tmp"
"/* console_files.c - generated from node/console/ by node/console/embed.cmake;
 * do not edit: edit the files there and rebuild. */
#include \"console.h\"

${arrays}
const struct console_file console_files[] = {
${table}};
const size_t console_nfiles = ${i};
")
# rewrite only on change, so that an unchanged console relinks nothing
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
