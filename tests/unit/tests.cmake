relay_unit_test(test_form)
relay_unit_test(test_clock)
relay_unit_test(test_config)
relay_unit_test(test_directory)
relay_unit_test(test_envelope)
target_compile_definitions(test_envelope PRIVATE KAT_ENVELOPE="${CMAKE_CURRENT_SOURCE_DIR}/unit/kat_envelope.txt")
add_test(NAME unit.kat_check COMMAND ${SYS_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/unit/kat_check.py ${CMAKE_CURRENT_SOURCE_DIR}/unit/kat_envelope.txt)
set_tests_properties(unit.kat_check PROPERTIES TIMEOUT 60)
relay_unit_test(test_store)
relay_unit_test(test_policy)
target_link_libraries(test_policy PRIVATE relaypolicy)
target_compile_definitions(test_policy PRIVATE POLICY_DIR="${PROJECT_SOURCE_DIR}/policy")
relay_unit_test(test_link_seal)
relay_unit_test(test_keys)
# test_account runs the writer, so it takes the node's files that account
# work reaches (no links, no transport)
add_executable(test_account unit/test_account.c ${PROJECT_SOURCE_DIR}/node/account.c
  ${PROJECT_SOURCE_DIR}/node/writer.c ${PROJECT_SOURCE_DIR}/node/router.c
  ${PROJECT_SOURCE_DIR}/node/held.c ${PROJECT_SOURCE_DIR}/node/node.c
  ${PROJECT_SOURCE_DIR}/node/store_check.c)
target_link_libraries(test_account PRIVATE relaycore ${CMOCKA_LIB})
add_test(NAME unit.test_account COMMAND test_account)
set_tests_properties(unit.test_account PROPERTIES TIMEOUT 60)
