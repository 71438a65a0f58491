"""XPS survey-spectrum quantification (SPEC §4): simulator, datasets, baseline, metrics, serving.

The network builder is `mlkit.models.xps_cnn`; the end-to-end study is `recipes/xps.py`.
"""

from mlkit.xps import physics, report
from mlkit.xps.baseline import LinearCombinationFit
from mlkit.xps.datasets import (
    array_targets_dataset,
    load_shards,
    read_manifest,
    shard_dataset,
    simulated_dataset,
    write_shards,
)
from mlkit.xps.metrics import per_element_error, quantification_metrics, reported_composition
from mlkit.xps.preparation import find_reference, network_input, resample_masked
from mlkit.xps.readers import MeasuredSpectrum, read_spectra, read_spectrum, write_vamas
from mlkit.xps.serving import XPSEnsemble, XPSModel, load_xps_ensemble, load_xps_model, model_metadata
from mlkit.xps.simulator import SpectrumParameters, XPSSimulator

__all__ = [
    "LinearCombinationFit",
    "MeasuredSpectrum",
    "SpectrumParameters",
    "XPSEnsemble",
    "XPSModel",
    "XPSSimulator",
    "array_targets_dataset",
    "load_shards",
    "load_xps_ensemble",
    "load_xps_model",
    "per_element_error",
    "physics",
    "quantification_metrics",
    "read_manifest",
    "find_reference",
    "network_input",
    "read_spectra",
    "read_spectrum",
    "report",
    "reported_composition",
    "resample_masked",
    "shard_dataset",
    "simulated_dataset",
    "model_metadata",
    "write_shards",
    "write_vamas",
]
