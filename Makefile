# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEED ?= 0

.PHONY: run test test-fast install clean benchmark xps-full xps-simulate recipes

# The main job: XPS quantification on simulated spectra, CNN vs peak areas vs NNLS (about 7 min on 2 CPU cores).
run: $(STAMP)
	$(BIN)/mlkit run xps --seed $(SEED)

# The recipe targets this Makefile generates.
recipes:
	@echo $(RECIPE_TARGETS)

# Two pytest workers (pytest-xdist): most test time is single-threaded tracing and subprocess
# start-up, so two processes keep a 2-core machine busy where one leaves a core idle. loadgroup
# keeps a module marked xdist_group on one worker, so its expensive module fixture is built once.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --durations=15

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "not slow"

install: $(STAMP)

# Reinstall whenever the declared dependencies or the compiled k-means op change (the op's build
# imports TensorFlow through mlkit_cli.quiet_tensorflow, which keeps its start-up lines quiet). The op
# (about 15 s to compile) needs a C++ compiler and AVX-512; without them KMeans uses XLA.
$(STAMP): setup.cfg pyproject.toml mlkit/unsupervised/lloyd_pass.cc
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -c "import mlkit_cli, runpy; mlkit_cli.quiet_tensorflow(); runpy.run_module('mlkit.unsupervised.build_lloyd_pass', run_name='__main__')"
	touch $(STAMP)

# One target per recipe, generated from the recipe modules (mlkit/recipes/*.py): `make mnist-cnn`
# runs `mlkit run mnist_cnn`. A new recipe module gets its target without touching this file.
# Extra flags: make cats-dogs ARGS="--data ~/pets", make mnist-cnn ARGS="--set data_dir=../shared/data/mnist".
RECIPES := $(filter-out __init__,$(basename $(notdir $(wildcard mlkit/recipes/*.py))))
RECIPE_TARGETS := $(subst _,-,$(RECIPES))
.PHONY: $(RECIPE_TARGETS)
$(RECIPE_TARGETS): $(STAMP)
	$(BIN)/mlkit run $(subst -,_,$@) --seed $(SEED) $(ARGS)

# Paper scale: 48 epochs of 100k fresh spectra each (about 100 minutes on 2 CPU cores; a killed run resumes).
xps-full: $(STAMP)
	$(BIN)/mlkit run xps --full --seed $(SEED)

# 100k spectra as shards in data/xps-100k (train on them with --set data_dir=data/xps-100k).
xps-simulate: $(STAMP)
	$(BIN)/mlkit xps simulate --n 100000 --out data/xps-100k --seed $(SEED)

# Speed comparisons (not tests): prints side-by-side times and ratios.
benchmark: $(STAMP)
	$(BIN)/python benchmarks/unsupervised.py
	$(BIN)/python benchmarks/xps_simulator.py
	$(BIN)/python benchmarks/mnist_pipeline.py

clean:
	rm -rf $(VENV) build *.egg-info
