#!/usr/bin/env bash
# Filled in by the issue that needs it.
echo "install: not yet implemented"
