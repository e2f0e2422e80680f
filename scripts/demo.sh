#!/usr/bin/env bash
# Filled in by the issue that needs it.
echo "demo: not yet implemented"
