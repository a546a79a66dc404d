# stress_selftest: a byte flipped in a held block must end the run with a
# data-corrupt violation, the failure report and a non-zero exit.
execute_process(COMMAND ${STRESS} --profile pcp-churn --threads 2 --cpus 2 --steps 3000 --seed 5
                        --selftest-corrupt 500 --plain --report-dir ${REPORTS}
                OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "expected exit 1 after the corruption, got ${rc}:\n${text}\n${err}")
endif()
foreach(want "VIOLATION: data-corrupt" "rerun: ./pagetorture stress --profile pcp-churn --threads 2 --cpus 2 --seed 5"
             "last operations of every thread" "thread 1 \\(cpu 1" "\\$ cat /proc/buddyinfo"
             "\\$ cat /proc/pagetypeinfo" "Node 0, zone" "report +[^\n]*failure.txt")
  if(NOT text MATCHES "${want}")
    message(FATAL_ERROR "the failure report lacks '${want}':\n${text}")
  endif()
endforeach()
string(REGEX MATCH "report +([^\n]*failure.txt)" m "${text}")
if(NOT EXISTS "${CMAKE_MATCH_1}")
  message(FATAL_ERROR "no ${CMAKE_MATCH_1}")
endif()
