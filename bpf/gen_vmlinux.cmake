# SPDX-License-Identifier: GPL-2.0-or-later
# Writes vmlinux.h for the BPF programs: from the build machine's BTF when it has some, else
# the pinned copy under bpf/vmlinux/<arch>/. Run with cmake -P; inputs: BPFTOOL, BTF, PINNED, OUT.
set(tmp "${OUT}.tmp")
set(source "")
if(EXISTS "${BTF}")
  execute_process(COMMAND "${BPFTOOL}" btf dump file "${BTF}" format c
                  OUTPUT_FILE "${tmp}" RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(rc EQUAL 0)
    set(source "${BTF}")
  else()
    message(WARNING "bpftool could not dump ${BTF} (${err}); using the pinned vmlinux.h")
  endif()
endif()
if(source STREQUAL "")
  configure_file("${PINNED}" "${tmp}" COPYONLY)
  set(source "${PINNED}")
endif()
# Only replace the file when it changed, so the probes are not rebuilt for nothing.
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${tmp}" "${OUT}")
file(REMOVE "${tmp}")
message(STATUS "vmlinux.h from ${source}")
