# stress_replay: the same seed and profile, single-threaded, twice: the
# trace digests (a hash of every operation and its result) must match, and a
# different seed must give a different one.
function(run_digest seed out)
  execute_process(COMMAND ${STRESS} --profile mix --threads 1 --cpus 2 --steps 6000 --seed ${seed}
                          --fault prob=3,compact=10,eagain=10,reclaim=10 --quiet --report-dir ${REPORTS}
                  OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "stress run (seed ${seed}) failed with ${rc}:\n${text}\n${err}")
  endif()
  string(REGEX MATCH "trace digest +t0:([0-9a-f]+)" m "${text}")
  if(NOT m)
    message(FATAL_ERROR "no trace digest in:\n${text}")
  endif()
  set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
endfunction()

run_digest(11 a)
run_digest(11 b)
run_digest(12 c)
message(STATUS "seed 11: ${a} and ${b}; seed 12: ${c}")
if(NOT a STREQUAL b)
  message(FATAL_ERROR "seed 11 did not replay: ${a} then ${b}")
endif()
if(a STREQUAL c)
  message(FATAL_ERROR "seeds 11 and 12 gave the same trace ${a}")
endif()
