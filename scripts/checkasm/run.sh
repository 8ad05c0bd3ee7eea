#!/bin/sh
# Build and run the CSliceKernels checkasm harness and the backward-pass gradcheck.
#   scripts/checkasm/run.sh            build (clang + gcc), run correctness tests: checkasm
#                                      (forward kernels, every SIMD level bit-exact vs the
#                                      reference) then gradcheck (backward passes: finite
#                                      differences, adjoint identities, determinism)
#   scripts/checkasm/run.sh --bench    ... then run the checkasm benchmark
#   scripts/checkasm/run.sh --asan     also build/run ASan+UBSan binaries
#   scripts/checkasm/run.sh --grad     gradcheck only; with --bench: the backward benchmark
#                                      (16 channels, 64x128 tile); with --asan: also ASan+UBSan
# Extra arguments after the mode flags are passed to checkasm and gradcheck (e.g. --seed 7).
set -eu
cd "$(dirname "$0")/../.."

if command -v clang >/dev/null 2>&1; then CC=clang
elif [ -x /opt/swift/usr/bin/clang ]; then CC=/opt/swift/usr/bin/clang
else CC=gcc; fi
GCC=""
if command -v gcc >/dev/null 2>&1 && [ "$CC" != gcc ]; then GCC=gcc; fi

FLAGS="-O3 -std=c11 -Wall -Wextra -I Sources/CSliceKernels/include"
ASANFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined"

BENCH=0 ASAN=0 GRAD=0
while [ $# -gt 0 ]; do
    case "$1" in
        --bench) BENCH=1; shift ;;
        --asan) ASAN=1; shift ;;
        --grad) GRAD=1; shift ;;
        *) break ;;
    esac
done

# Every source file is compiled once per compiler, all in parallel, and the
# objects are linked into both harnesses.
PIDS=""
compile() { # compiler, object dir, extra flags
    mkdir -p "$2"
    for f in Sources/CSliceKernels/*.c scripts/checkasm/checkasm.c scripts/checkasm/gradcheck.c; do
        # shellcheck disable=SC2086
        $1 $FLAGS $3 -c "$f" -o "$2/$(basename "$f" .c).o" &
        PIDS="$PIDS $!"
    done
}
wait_all() {
    for p in $PIDS; do wait "$p" || { echo "compile failed"; exit 1; }; done
    PIDS=""
}
link() { # compiler, object dir, harness, output
    objs=""
    for f in Sources/CSliceKernels/*.c; do objs="$objs $2/$(basename "$f" .c).o"; done
    # (ld.gold prints harmless "Cannot export local symbol" notes for ASan; hide them)
    # shellcheck disable=SC2086
    if ! $1 $3 $objs "$2/$4.o" -lm -lpthread -o "$5" >"$5.log" 2>&1; then cat "$5.log"; exit 1; fi
}

echo "== building with $CC${GCC:+ and $GCC (compile check)}"
# A private scratch directory per run, so two runs on one machine (or a CI run beside a session) never
# delete or link each other's objects.
T=$(mktemp -d "${TMPDIR:-/tmp}/checkasm.XXXXXX")
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/skobj-cc" "$T/skobj-gcc" "$T/skobj-asan"
compile "$CC" $T/skobj-cc ""
if [ -n "$GCC" ]; then compile "$GCC" $T/skobj-gcc ""; fi
if [ "$ASAN" = 1 ]; then compile "$CC" $T/skobj-asan "$ASANFLAGS"; fi
wait_all
link "$CC" $T/skobj-cc "" checkasm $T/checkasm
link "$CC" $T/skobj-cc "" gradcheck $T/gradcheck
if [ -n "$GCC" ]; then
    link "$GCC" $T/skobj-gcc "" checkasm $T/checkasm-gcc
    link "$GCC" $T/skobj-gcc "" gradcheck $T/gradcheck-gcc
fi
if [ "$ASAN" = 1 ]; then
    link "$CC" $T/skobj-asan "$ASANFLAGS" checkasm $T/checkasm-asan
    link "$CC" $T/skobj-asan "$ASANFLAGS" gradcheck $T/gradcheck-asan
fi

if [ "$GRAD" = 0 ]; then
    echo "== checkasm ($CC)"
    $T/checkasm "$@"
    if [ -n "$GCC" ]; then
        echo "== checkasm (gcc build)"
        $T/checkasm-gcc --iters 100 "$@" | tail -n 1
    fi
fi
if [ "$GRAD" = 0 ] || [ "$BENCH" = 0 ]; then
    echo "== gradcheck ($CC)"
    $T/gradcheck "$@"
    if [ -n "$GCC" ]; then
        echo "== gradcheck (gcc build)"
        $T/gradcheck-gcc --iters 30 "$@" | tail -n 1
    fi
fi

if [ "$ASAN" = 1 ]; then
    if [ "$GRAD" = 0 ]; then
        echo "== checkasm (ASan+UBSan, $CC)"
        $T/checkasm-asan --iters 100 "$@" | tail -n 1
    fi
    echo "== gradcheck (ASan+UBSan, $CC)"
    $T/gradcheck-asan --iters 30 "$@" | tail -n 1
fi

if [ "$BENCH" = 1 ]; then
    if [ "$GRAD" = 1 ]; then
        echo "== gradcheck bench"
        $T/gradcheck --bench
    else
        echo "== bench"
        $T/checkasm --bench
    fi
fi
