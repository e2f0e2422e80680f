# Stencil: every target installs or builds what it needs, idempotently, so on a fresh machine
# `make demo` and `make test` are each the only command needed.
SHELL       := /bin/bash
DOTNET      ?= dotnet
CONFIG      ?= Release
BIN         := build/bin
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

.PHONY: all deps build publish guest unit test bench bench-start bench-checkpoint reliability demo install clean

all: build

## deps: Debian packages (QEMU, containerd, runc/crun, clang for NativeAOT, ...) and NuGet restore.
deps:
	@scripts/deps.sh
	@$(DOTNET) restore Runtime.sln --verbosity quiet

## build: every project (libraries, tests, tools).
build: deps
	$(DOTNET) build Runtime.sln -c $(CONFIG) --no-restore --verbosity quiet

## publish: the NativeAOT executables: shim and `stencil` into build/bin, the agent into build/agent,
## and the tests' shim with a simulated pod runtime (tests/Stencil.Shim.TestHost) into build/test-bin.
publish: deps
	$(DOTNET) publish shim/Stencil.Shim -c Release -o $(BIN) --verbosity quiet
	$(DOTNET) publish src/Stencil.Cli -c Release -o $(BIN) --verbosity quiet
	$(DOTNET) publish src/Stencil.Agent -c Release -o build/agent --verbosity quiet
	$(DOTNET) publish tests/Stencil.Shim.TestHost -c Release -o build/test-bin --verbosity quiet

## guest: kernel (vmlinux) and initrd with the agent, under build/guest.
guest: publish
	@scripts/build-guest.sh

## unit: the pure tests only ([Trait("Category", "Unit")]: no QEMU, no containerd, no network
## namespace), in under a minute.
unit: build
	@scripts/run-unit-tests.sh

## test: unit, integration (real QEMU) and end-to-end (real containerd) tests.
test: build guest
	@scripts/run-tests.sh

## bench: the performance benchmarks, printed as tables of medians and ratios.
bench: build guest
	@scripts/run-bench.sh

## bench-start: the CRI pod start alone (section 1 of the cri benchmark: runc and each stencil handler
## interleaved, template clones then the factory daemon's pool), with the newest containerd; ~2 minutes.
bench-start: build guest
	@PATH="$$(scripts/containerd-release.sh sid):$$PATH" $(DOTNET) run --project tests/Stencil.Bench -c Release --no-build -- cri-start

## bench-checkpoint: checkpoint and restore of a pod VM through containerd (size, times; idle and 128 MiB
## dirtied; diff and full memory), with the newest containerd; ~2-3 minutes. Also part of `bench`.
bench-checkpoint: build guest
	@PATH="$$(scripts/containerd-release.sh sid):$$PATH" $(DOTNET) run --project tests/Stencil.Bench -c Release --no-build -- checkpoint

## reliability: fuzzing of the parsers that take outside bytes (config.json, configuration.toml, QMP,
## ttRPC) and load (200 create/delete cycles, 20 pods at once) with leak accounting, as two tables.
## Not part of `test`, which runs a short version of both.
reliability: build guest
	@scripts/run-reliability.sh

## demo: a container in a VM through a private containerd.
demo: build guest
	@scripts/demo.sh

## install: the shim, guest image and default configuration to their system places.
install: publish guest
	@scripts/install.sh

clean:
	rm -rf build
	$(DOTNET) clean Runtime.sln --verbosity quiet || true
