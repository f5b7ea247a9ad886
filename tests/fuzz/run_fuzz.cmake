# run_fuzz.cmake - one fuzz.* test:
#   1. replay tests/fuzz/crashes/<name>-* (inputs that once found a bug)
#      once each;
#   2. copy the seed corpus into the build tree and fuzz that copy for
#      SECONDS (libFuzzer adds what it finds there, never to the sources).
# Any finding in either step fails the test.
#   cmake -DFUZZER=... -DSEEDS=src/corpus/t -DCRASHES="src/crashes/t-*"
#         -DWORK=build/corpus/t -DARTIFACTS=build/artifacts/t- -DSECONDS=10
#         [-DEXTRA=-dict=...] -P run_fuzz.cmake
set(failed "")
set(opts -timeout=5 -rss_limit_mb=1024 -artifact_prefix=${ARTIFACTS})
get_filename_component(artifact_dir ${ARTIFACTS} DIRECTORY)
file(MAKE_DIRECTORY ${WORK} ${artifact_dir})

file(GLOB old_crashes ${CRASHES})
if(old_crashes)
  execute_process(COMMAND ${FUZZER} ${opts} ${old_crashes} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(APPEND failed " a saved crash input still fails (${CRASHES});")
  endif()
endif()

file(GLOB seeds ${SEEDS}/*)
if(seeds)
  file(COPY ${seeds} DESTINATION ${WORK})
endif()
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -print_final_stats=1 ${opts} ${EXTRA} ${WORK}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  string(APPEND failed " fuzzing found an input (exit ${rc}), saved under ${artifact_dir};")
endif()
if(failed)
  message(FATAL_ERROR "${FUZZER}:${failed} see the report above")
endif()
