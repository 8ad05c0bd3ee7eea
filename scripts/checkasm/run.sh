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
#
# arm64: on an x86-64 host with aarch64-linux-gnu-gcc (+ libc6-dev-arm64-cross) and qemu-aarch64
# (qemu-user), every run also cross-builds both harnesses for AArch64 (-Werror: the whole CSliceKernels
# target must compile cleanly there; also with clang --target=aarch64-linux-gnu where clang is used) and
# runs them under qemu-user, so the NEON variants are checked bit for bit against the reference like the
# x86 ones (scripts/install-deps installs the packages). qemu runs them as "-cpu max" (with the dot product:
# the int8 kernel's SDOT body runs beside its SMLAL one) and checkasm once more as "-cpu cortex-a57" (ARMv8.0,
# no dot product: detection must say so and the dispatcher must keep to the SMLAL body). Without them it
# prints one "skipped" line and goes on. Never under --bench: speed measured under an emulator means nothing.
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

# A private scratch directory per run, so two runs on one machine (or a CI run beside a session) never
# delete or link each other's objects.
T=$(mktemp -d "${TMPDIR:-/tmp}/checkasm.XXXXXX")
trap 'rm -rf "$T"' EXIT

# The AArch64 cross check (see the top); on an arm64 host the native builds below already run NEON.
# CHECKASM_AARCH64_CC names another cross compiler (e.g. "none" to see the skipped path).
AA=0 AACL=0
AAGCC=${CHECKASM_AARCH64_CC:-aarch64-linux-gnu-gcc} AASYS=/usr/aarch64-linux-gnu
AAFLAGS="$FLAGS -Werror"
if [ "$BENCH" = 0 ] && [ "$(uname -m)" != aarch64 ]; then
    if command -v "$AAGCC" >/dev/null 2>&1 && command -v qemu-aarch64 >/dev/null 2>&1 &&
       [ -f "$AASYS/include/stdio.h" ]; then
        AA=1
        # clang cross-compiles with the same GNU sysroot and libgcc when its driver finds them.
        case "$CC" in *clang*)
            # (into $T: a failed link deletes its output, and this may run as root)
            echo 'int main(void){return 0;}' >"$T/probe.c"
            if "$CC" --target=aarch64-linux-gnu "$T/probe.c" -o "$T/probe" 2>/dev/null; then AACL=1; fi ;;
        esac
    else
        echo "checkasm aarch64: skipped (no aarch64-linux-gnu-gcc / qemu-aarch64; apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)"
    fi
fi
# CPU qemu emulates, and whether it has the dot product (checkasm checks sk_q8_dotprod_supported() by it).
AACPU=max AADOT=1
run_aa() { # harness binary, arguments...: run under qemu-user with the cross libc
    b=$1; shift
    CHECKASM_EXPECT_DOTPROD=$AADOT qemu-aarch64 -cpu "$AACPU" -L "$AASYS" "$b" "$@"
}
# Runs a harness showing only its verdict line. Not "harness | tail -n 1": a pipeline's status is
# tail's, so a failing harness would pass; on failure this prints every non-PASS line and fails.
verdict() {
    if "$@" >"$T/verdict.log" 2>&1; then tail -n 1 "$T/verdict.log"
    else grep -v ' PASS ' "$T/verdict.log"; return 1; fi
}

AANOTE=""
if [ "$AA" = 1 ]; then AANOTE=", $AAGCC"; [ "$AACL" = 1 ] && AANOTE="$AANOTE and $CC --target=aarch64-linux-gnu"; fi
echo "== building with $CC${GCC:+ and $GCC (compile check)}$AANOTE"
mkdir -p "$T/skobj-cc" "$T/skobj-gcc" "$T/skobj-asan"
compile "$CC" $T/skobj-cc ""
if [ -n "$GCC" ]; then compile "$GCC" $T/skobj-gcc ""; fi
if [ "$ASAN" = 1 ]; then compile "$CC" $T/skobj-asan "$ASANFLAGS"; fi
if [ "$AA" = 1 ]; then
    SAVED="$FLAGS"; FLAGS="$AAFLAGS"
    compile "$AAGCC" $T/skobj-aa ""
    if [ "$AACL" = 1 ]; then compile "$CC --target=aarch64-linux-gnu" $T/skobj-aacl ""; fi
    FLAGS="$SAVED"
fi
wait_all
link "$CC" $T/skobj-cc "" checkasm $T/checkasm
link "$CC" $T/skobj-cc "" gradcheck $T/gradcheck
if [ -n "$GCC" ]; then
    link "$GCC" $T/skobj-gcc "" checkasm $T/checkasm-gcc
    link "$GCC" $T/skobj-gcc "" gradcheck $T/gradcheck-gcc
fi
if [ "$AA" = 1 ]; then
    link "$AAGCC" $T/skobj-aa "" checkasm $T/checkasm-aa
    link "$AAGCC" $T/skobj-aa "" gradcheck $T/gradcheck-aa
    if [ "$AACL" = 1 ]; then link "$CC --target=aarch64-linux-gnu" $T/skobj-aacl "" checkasm $T/checkasm-aacl; fi
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
        verdict $T/checkasm-gcc --iters 100 "$@"
    fi
fi
if [ "$GRAD" = 0 ] || [ "$BENCH" = 0 ]; then
    echo "== gradcheck ($CC)"
    $T/gradcheck "$@"
    if [ -n "$GCC" ]; then
        echo "== gradcheck (gcc build)"
        verdict $T/gradcheck-gcc --iters 30 "$@"
    fi
fi

if [ "$AA" = 1 ]; then
    if [ "$GRAD" = 0 ]; then
        echo "== checkasm aarch64 ($AAGCC, qemu-aarch64)"
        run_aa $T/checkasm-aa "$@"
        if [ "$AACL" = 1 ]; then
            echo "== checkasm aarch64 ($CC --target=aarch64-linux-gnu, qemu-aarch64)"
            verdict run_aa $T/checkasm-aacl --iters 100 "$@"
        fi
        echo "== checkasm aarch64 ($AAGCC, qemu-aarch64 -cpu cortex-a57: no dot product)"
        AACPU=cortex-a57 AADOT=0
        if run_aa $T/checkasm-aa --iters 100 "$@" >"$T/a57.log" 2>&1; then
            grep -E 'auto level|subpixel_q8' "$T/a57.log"; tail -n 1 "$T/a57.log"
        else grep -v ' PASS ' "$T/a57.log"; exit 1; fi
        AACPU=max AADOT=1
    fi
    echo "== gradcheck aarch64 ($AAGCC, qemu-aarch64)"
    verdict run_aa $T/gradcheck-aa --iters 30 "$@"
fi

if [ "$ASAN" = 1 ]; then
    if [ "$GRAD" = 0 ]; then
        echo "== checkasm (ASan+UBSan, $CC)"
        verdict $T/checkasm-asan --iters 100 "$@"
    fi
    echo "== gradcheck (ASan+UBSan, $CC)"
    verdict $T/gradcheck-asan --iters 30 "$@"
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
