#!/bin/bash
# Bazel's sh_test for a campaign (see BUILD.bazel). Exit 1 fails the shard.
set -euo pipefail
campaign="$1"
exec "${TOUCHDOWN:-touchdown}" campaign "$campaign" \
    --results "${TEST_UNDECLARED_OUTPUTS_DIR:-.}/results.jsonl"
