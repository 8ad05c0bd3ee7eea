#!/bin/sh
# Build and run the CSliceKernels checkasm harness.
#   scripts/checkasm/run.sh            build (clang + gcc), run correctness tests
#   scripts/checkasm/run.sh --bench    ... then run the benchmark
#   scripts/checkasm/run.sh --asan     also build/run an ASan+UBSan binary
# Extra arguments after the mode flags are passed to checkasm (e.g. --seed 7).
set -eu
cd "$(dirname "$0")/../.."

if command -v clang >/dev/null 2>&1; then CC=clang
elif [ -x /opt/swift/usr/bin/clang ]; then CC=/opt/swift/usr/bin/clang
else CC=gcc; fi

SRCS="Sources/CSliceKernels/*.c scripts/checkasm/checkasm.c"
FLAGS="-O3 -std=c11 -Wall -Wextra -I Sources/CSliceKernels/include"

BENCH=0 ASAN=0
while [ $# -gt 0 ]; do
    case "$1" in
        --bench) BENCH=1; shift ;;
        --asan) ASAN=1; shift ;;
        *) break ;;
    esac
done

echo "== building with $CC"
# shellcheck disable=SC2086
$CC $FLAGS $SRCS -lm -lpthread -o /tmp/checkasm
if command -v gcc >/dev/null 2>&1 && [ "$CC" != gcc ]; then
    echo "== building with gcc (compile check)"
    # shellcheck disable=SC2086
    gcc $FLAGS $SRCS -lm -lpthread -o /tmp/checkasm-gcc
fi

echo "== checkasm ($CC)"
/tmp/checkasm "$@"
if [ -x /tmp/checkasm-gcc ] && [ "$CC" != gcc ]; then
    echo "== checkasm (gcc build)"
    /tmp/checkasm-gcc --iters 100 "$@" | tail -n 1
fi

if [ "$ASAN" = 1 ]; then
    echo "== checkasm (ASan+UBSan, $CC)"
    # shellcheck disable=SC2086
    # (ld.gold prints harmless "Cannot export local symbol" notes; hide them)
    if ! $CC $FLAGS -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
        $SRCS -lm -lpthread -o /tmp/checkasm-asan >/tmp/checkasm-asan.log 2>&1; then
        cat /tmp/checkasm-asan.log; exit 1
    fi
    /tmp/checkasm-asan --iters 100 "$@" | tail -n 1
fi

if [ "$BENCH" = 1 ]; then
    echo "== bench"
    /tmp/checkasm --bench
fi
