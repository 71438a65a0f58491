"""Multi-worker scaling on this machine (a benchmark, not a test): one worker on one core against two
workers on one core each (MultiWorkerMirroredStrategy over loopback), the same global batch.

Models: mlkit's mnist_dnn (784-512-256-10, 535,818 parameters) and the keras-io MNIST convnet
(`simple_cnn`, 34,826 parameters). Data: random 28×28 images in memory (the speed does not depend on
the digits). Every worker runs mlkit's distributed loop (`mlkit.training.distributed.distributed_fit`,
the one `fit` uses under --strategy multi_worker), pinned with `taskset` to its own core with one
intra-op and one inter-op thread. Images per second come from the epochs after the first (tracing);
each configuration runs ROUNDS times, alternating, and the best is kept.

Each two-worker job also times all-reduces of one float and of a model-sized float32 vector, which
give the latency and bandwidth of the ring over loopback for the scaling model in the README.

    python benchmarks/multi_worker.py            # about 5 minutes
"""

import json
import os
import subprocess
import sys
import time

ROUNDS = 3
GLOBAL_BATCH = 256
STEPS_PER_EPOCH = 30
EPOCHS = 3  # the first is tracing and warm-up
MODELS = ("mnist_dnn", "convnet")


def worker(model_name, workers):
    """One worker process (TF_CONFIG set when workers > 1); prints one JSON line."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(int(os.environ.get("MW_INTEROP", 1)))
    from mlkit.training.distributed import distributed_fit, is_chief, multi_worker_strategy

    strategy = multi_worker_strategy() if workers > 1 else tf.distribute.get_strategy()
    import keras
    import numpy as np

    from mlkit.models import mnist_dnn, simple_cnn

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    images = rng.random((GLOBAL_BATCH * STEPS_PER_EPOCH, 28, 28, 1), dtype=np.float32)
    labels = rng.integers(0, 10, len(images))
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(GLOBAL_BATCH).cache().prefetch(2)
    with strategy.scope():
        model = mnist_dnn() if model_name == "mnist_dnn" else simple_cnn(
            filters=(32, 64), convs_per_block=1, padding="valid", dense_units=(), dropout=0.5)  # keras-io's
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.started)

    times = []
    distributed_fit(model, dataset, None, [Timer()], EPOCHS, strategy, verbose=0)
    result = {"images_per_second": GLOBAL_BATCH * STEPS_PER_EPOCH / min(times[1:]),
              "parameters": int(model.count_params())}
    if workers > 1:
        result.update(_allreduce_times(strategy, model.count_params()))
    if is_chief(strategy):
        print(json.dumps(result), flush=True)


def _allreduce_times(strategy, size):
    import tensorflow as tf

    timings = {}
    for name, length in (("allreduce_1_float_ms", 1), ("allreduce_model_ms", size)):
        value = tf.ones([length])

        @tf.function
        def reduce():
            return strategy.run(lambda: tf.distribute.get_replica_context().all_reduce("SUM", value))

        reduce()  # trace
        started = time.perf_counter()
        for _ in range(20):
            reduce()
        timings[name] = (time.perf_counter() - started) / 20 * 1000
    return timings


def run_job(model_name, workers):
    from mlkit_cli import free_ports

    ports = free_ports(workers)
    processes = []
    for index in range(workers):
        environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
        if workers > 1:
            environment["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                                                   "task": {"type": "worker", "index": index}})
        command = ["taskset", "-c", str(index), sys.executable, __file__, "--worker", model_name, str(workers)]
        processes.append(subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                          text=True))
    outputs = [process.communicate(timeout=900)[0] for process in processes]
    if any(process.returncode for process in processes):
        raise RuntimeError(f"{model_name} with {workers} workers failed: {[p.returncode for p in processes]}")
    return json.loads(outputs[0].strip().splitlines()[-1])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--job":  # one configuration, for experiments
        model_name, workers = sys.argv[2].split(":")
        print(run_job(model_name, int(workers)))
        return
    results = {}
    for round_number in range(ROUNDS):
        for model_name in MODELS:
            order = (1, 2) if round_number % 2 == 0 else (2, 1)
            for workers in order:
                result = run_job(model_name, workers)
                key = (model_name, workers)
                best = results.get(key)
                if best is None or result["images_per_second"] > best["images_per_second"]:
                    results[key] = result
                print(f"round {round_number + 1}: {model_name}, {workers} worker(s): "
                      f"{result['images_per_second']:.0f} images/s", flush=True)
    print(f"\nGlobal batch {GLOBAL_BATCH}; best of {ROUNDS} rounds; one core and one thread per worker.")
    print(f"{'model':10s} {'parameters':>10s} {'1 worker':>12s} {'2 workers':>12s} {'ratio':>6s} "
          f"{'all-reduce 1 float':>19s} {'all-reduce model':>17s}")
    for model_name in MODELS:
        one, two = results[(model_name, 1)], results[(model_name, 2)]
        print(f"{model_name:10s} {one['parameters']:10d} {one['images_per_second']:10.0f}/s "
              f"{two['images_per_second']:10.0f}/s {two['images_per_second'] / one['images_per_second']:5.2f}× "
              f"{two['allreduce_1_float_ms']:16.2f} ms {two['allreduce_model_ms']:14.2f} ms")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
        worker(sys.argv[2], int(sys.argv[3]))
    else:
        main()
