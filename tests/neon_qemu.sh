#!/bin/bash
# neon_qemu.sh — the kernel tests for AArch64 NEON on an x86 machine: the
# core library (it needs no third-party package) and the kernel tests are
# cross-compiled statically, once for Armv8.0 (widening-multiply integer
# dot products) and once for Armv8.2 dotprod (SDOT), and run under
# qemu-user. Needs gcc-aarch64-linux-gnu and qemu-user-static
# (`make test-neon` installs them). Not part of `make test`.
set -eu
cd "$(dirname "$0")/.."
out=build-neon
mkdir -p "$out"
srcs="$(ls src/core/*.c | grep -v -E '_(avx2|avx512|avxvnni)\.c$') src/io/npy.c"
status=0
for march in armv8-a armv8.2-a+dotprod; do
    for t in test_kernels test_fast_matmul test_quant_golden; do
        bin=$out/$t-${march//+/-}
        aarch64-linux-gnu-gcc -std=c11 -D_GNU_SOURCE -O2 -march="$march" -Wall -Wextra -static \
            -Iinclude -Isrc -Itests $srcs tests/harness.c "tests/$t.c" -o "$bin" -lm -lpthread
        if (cd tests && qemu-aarch64-static "../$bin" >"../$bin.log" 2>&1); then
            echo "ok   $march $t: $(tail -1 "$bin.log")"
        else
            echo "FAIL $march $t (log: $bin.log)"
            status=1
        fi
    done
done
exit $status
