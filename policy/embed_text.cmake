# embed_text.cmake - write a C file whose policy_builtin_default() returns
# the bytes of IN, NUL-terminated.
#   cmake -DIN=default.policy -DOUT=policy_default.c -P embed_text.cmake
# The bytes go out as hex, so any content (UTF-8 comments, CRLF, quotes,
# backslashes) survives exactly; an empty IN gives an empty string.
if(NOT DEFINED IN OR NOT DEFINED OUT)
  message(FATAL_ERROR "usage: cmake -DIN=<file> -DOUT=<file.c> -P embed_text.cmake")
endif()
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# sixteen bytes per line (CMake regexes have no {n} repetition)
set(sixteen "")
foreach(i RANGE 15)
  string(APPEND sixteen "0x[0-9a-f][0-9a-f],")
endforeach()
string(REGEX REPLACE "(${sixteen})" "\\1\n    " bytes "${bytes}")
get_filename_component(name "${IN}" NAME)
file(WRITE "${OUT}"
"/* policy_default.c - generated from policy/${name} by policy/embed_text.cmake;
 * do not edit: edit policy/${name} and rebuild. */
#include \"policy.h\"

static const unsigned char policy_default_text[] = {
    ${bytes}0x00};

/* policy_builtin_default - the text of policy/${name}, NUL-terminated */
const char *
policy_builtin_default(void)
{
    return (const char *)policy_default_text;
}
")
