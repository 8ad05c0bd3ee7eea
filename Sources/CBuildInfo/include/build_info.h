#ifndef SLICESTREAM_BUILD_INFO_H
#define SLICESTREAM_BUILD_INFO_H

/// The source revision the binary was built from (`SLICESTREAM_GIT_COMMIT` in the environment of
/// `swift build`, set by the Makefile), or "" when the build was not told.
const char *slicestream_build_commit(void);

#endif
