#!/usr/bin/env bash
# Filled in by the issue that needs it.
echo "run-bench: not yet implemented"
