#!/usr/bin/env bash
# Filled in by the issue that needs it.
echo "build-guest: not yet implemented"
