#include "build_info.h"

// Package.swift defines SLICESTREAM_GIT_COMMIT as a string literal when the build environment has it.
#ifndef SLICESTREAM_GIT_COMMIT
#define SLICESTREAM_GIT_COMMIT ""
#endif

const char *slicestream_build_commit(void) { return SLICESTREAM_GIT_COMMIT; }
