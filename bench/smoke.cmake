# ctest bench_smoke: every benchmark for one very short repetition, the
# comparison and the report generator on what that produced, and a check
# that index.html and at least one PNG were written.  No thresholds: this
# proves the suite and the report run, nothing about speed.
#   cmake -DSOURCE_DIR=... -DBIN_DIR=... -DPYTHON=... -DOUT_DIR=... -P smoke.cmake
file(REMOVE_RECURSE ${OUT_DIR})
file(MAKE_DIRECTORY ${OUT_DIR})
set(ARGS --benchmark_repetitions=1 --benchmark_min_time=0.001 --benchmark_out_format=json)

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
endfunction()

run(bench_alloc ${BIN_DIR}/bench_alloc ${ARGS} --benchmark_out=${OUT_DIR}/ours.json)
foreach(other glibc jemalloc tcmalloc)
  if(EXISTS ${BIN_DIR}/bench_${other})
    run(bench_${other} ${BIN_DIR}/bench_${other} ${ARGS} --benchmark_out=${OUT_DIR}/${other}.json)
  endif()
endforeach()
execute_process(COMMAND ${BIN_DIR}/bench_compaction_snapshot --pages 16384
                OUTPUT_FILE ${OUT_DIR}/compaction.json RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bench_compaction_snapshot failed (${rc})")
endif()
run(bench_compare ${PYTHON} ${SOURCE_DIR}/tools/report/bench_compare.py ${OUT_DIR})
run(report ${PYTHON} ${SOURCE_DIR}/tools/report/report.py --root ${SOURCE_DIR} --bench ${OUT_DIR}
    --out ${OUT_DIR}/report)

if(NOT EXISTS ${OUT_DIR}/report/index.html)
  message(FATAL_ERROR "report: no index.html in ${OUT_DIR}/report")
endif()
file(GLOB pngs ${OUT_DIR}/report/*.png)
list(LENGTH pngs nr_pngs)
if(nr_pngs LESS 1)
  message(FATAL_ERROR "report: no PNG written in ${OUT_DIR}/report")
endif()
file(READ ${OUT_DIR}/report/index.html page)
if(page MATCHES "(src|href)=\"(https?:)?//")
  message(FATAL_ERROR "report: index.html refers to the network")
endif()
message(STATUS "bench smoke: index.html and ${nr_pngs} PNG(s) in ${OUT_DIR}/report")
