"""Runs each model in onnxruntime on the exact inputs the tract bench used and prints both.

Called by scripts/bench-vision.sh with the JSON written by `cargo bench --bench stages`.
"""
import json
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort


def reference_input(shape, lo, hi):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.int64)
    v = ((i * 37 + 11) % 251).astype(np.float32) / np.float32(250.0)
    return (np.float32(lo) + (np.float32(hi) - np.float32(lo)) * v).reshape(shape)


def main(bench_json, models_dir, runs):
    bench = json.load(open(bench_json))
    manifest = {m["name"]: m for m in json.load(open(f"{models_dir}/manifest.json"))["models"]}
    opts = ort.SessionOptions()
    # tract runs single-threaded; compare like with like.
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    print(f"\nper model, same input tensor, median of {runs} runs, 1 thread (ms)")
    print(f"{'model':<20} {'input':<18} {'tract':>8} {'onnxruntime':>12} {'tract/ort':>10}")
    for row in bench["models"]:
        name, shape = row["model"], row["shape"]
        ref = json.load(open(f"{models_dir}/reference/{name}.json"))
        x = reference_input(shape, ref["input"]["lo"], ref["input"]["hi"])
        sess = ort.InferenceSession(f"{models_dir}/{manifest[name]['file']}", opts, providers=["CPUExecutionProvider"])
        feed = {sess.get_inputs()[0].name: x}
        sess.run(None, feed)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            sess.run(None, feed)
            times.append((time.perf_counter() - t) * 1e3)
        ort_ms = statistics.median(times)
        dims = "x".join(str(d) for d in shape)
        print(f"{name:<20} {dims:<18} {row['tract_ms']:>8.3f} {ort_ms:>12.3f} {row['tract_ms'] / ort_ms:>10.2f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 20)
