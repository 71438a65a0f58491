# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEED ?= 0

.PHONY: run test test-fast install clean benchmark xps xps-full xps-simulate cars xor mnist-dnn mnist-cnn cats-dogs shapes-segmentation coffee-roasting kmeans-segmentation pca-faces lda-vs-pca

# The main job: XPS quantification on simulated spectra, CNN vs NNLS (about 8–9 min on 2 CPU cores).
run: $(STAMP)
	$(BIN)/mlkit run xps --seed $(SEED)

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

install: $(STAMP)

# Reinstall whenever the declared dependencies or the compiled k-means op change. The op
# (about 15 s to compile) needs a C++ compiler and AVX-512; without them KMeans uses XLA.
$(STAMP): setup.cfg pyproject.toml mlkit/unsupervised/lloyd_pass.cc
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m mlkit.unsupervised.build_lloyd_pass
	touch $(STAMP)

# One target per recipe.
xps: $(STAMP)
	$(BIN)/mlkit run xps --seed $(SEED)

# Paper scale: 100k training spectra.
xps-full: $(STAMP)
	$(BIN)/mlkit run xps --full --seed $(SEED)

# 100k spectra as shards in data/xps-100k (train on them with --set data_dir=data/xps-100k).
xps-simulate: $(STAMP)
	$(BIN)/mlkit xps simulate --n 100000 --out data/xps-100k --seed $(SEED)

cars: $(STAMP)
	$(BIN)/mlkit run cars --seed $(SEED)

xor: $(STAMP)
	$(BIN)/mlkit run xor --seed $(SEED)

mnist-dnn: $(STAMP)
	$(BIN)/mlkit run mnist_dnn --seed $(SEED)

mnist-cnn: $(STAMP)
	$(BIN)/mlkit run mnist_cnn --seed $(SEED)

# Your photos: make cats-dogs DATA=path/with/cats/and/dogs (without DATA: a synthetic demo folder).
cats-dogs: $(STAMP)
	$(BIN)/mlkit run cats_dogs --seed $(SEED) $(if $(DATA),--data $(DATA))

shapes-segmentation: $(STAMP)
	$(BIN)/mlkit run shapes_segmentation --seed $(SEED)

coffee-roasting: $(STAMP)
	$(BIN)/mlkit run coffee_roasting --seed $(SEED)

kmeans-segmentation: $(STAMP)
	$(BIN)/mlkit run kmeans_segmentation --seed $(SEED)

pca-faces: $(STAMP)
	$(BIN)/mlkit run pca_faces --seed $(SEED)

lda-vs-pca: $(STAMP)
	$(BIN)/mlkit run lda_vs_pca --seed $(SEED)

# Speed comparisons (not tests): prints side-by-side times and ratios.
benchmark: $(STAMP)
	$(BIN)/python benchmarks/unsupervised.py
	$(BIN)/python benchmarks/xps_simulator.py
	$(BIN)/python benchmarks/mnist_pipeline.py

clean:
	rm -rf $(VENV) build *.egg-info
