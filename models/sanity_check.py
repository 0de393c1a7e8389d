#!/usr/bin/env python3
"""Sanity check of the models and of the documented decoding on a real face photo.

Usage: sanity_check.py astronaut.png   (scikit-image's public-domain test photo, 512x512;
reproduce.sh --sanity fetches it). Prints detections and asserts loose expectations.
"""
import math
import os
import sys

import cv2
import numpy as np
import onnxruntime as ort

M = os.path.dirname(os.path.abspath(__file__)) + "/"
ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)


def sess(name):
    return ort.InferenceSession(M + name + ".onnx", providers=["CPUExecutionProvider"])


def retinaface(rgb):
    H, W = rgb.shape[:2]
    x = (rgb[..., ::-1].astype(np.float32) - np.array([104, 117, 127], np.float32)).transpose(2, 0, 1)[None]
    loc, conf, lm = sess("retinaface_mnet025").run(None, {"input": x})
    pri = []
    for s, ms in zip([8, 16, 32], [[16, 32], [64, 128], [256, 512]]):
        for i in range(math.ceil(H / s)):
            for j in range(math.ceil(W / s)):
                for m in ms:
                    pri.append(((j + .5) * s / W, (i + .5) * s / H, m / W, m / H))
    pri = np.array(pri)
    assert len(pri) == loc.shape[1]
    k = int(conf[0, :, 1].argmax())
    p, l = pri[k], loc[0, k]
    cx, cy = p[0] + l[0] * .1 * p[2], p[1] + l[1] * .1 * p[3]
    w, h = p[2] * math.exp(l[2] * .2), p[3] * math.exp(l[3] * .2)
    box = np.array([(cx - w / 2) * W, (cy - h / 2) * H, (cx + w / 2) * W, (cy + h / 2) * H])
    pts = np.array([[(p[0] + lm[0, k, 2 * q] * .1 * p[2]) * W, (p[1] + lm[0, k, 2 * q + 1] * .1 * p[3]) * H] for q in range(5)])
    return float(conf[0, k, 1]), box, pts


def blazeface(rgb):
    H, W = rgb.shape[:2]
    assert H == W, "this check only handles square photos (no letterbox)"
    b = cv2.resize(rgb, (128, 128), interpolation=cv2.INTER_AREA).astype(np.float32) / 127.5 - 1
    reg, cls = sess("blazeface_short").run(None, {"input": b[None]})
    anc = []
    for s, n in [(8, 2), (16, 6)]:
        g = 128 // s
        for y in range(g):
            for x in range(g):
                anc += [((x + .5) / g, (y + .5) / g)] * n
    anc = np.array(anc)
    assert len(anc) == 896
    sc = 1 / (1 + np.exp(-np.clip(cls[0, :, 0].astype(np.float64), -100, 100)))
    k = int(sc.argmax())
    r = reg[0, k]
    cx, cy, w, h = r[0] / 128 + anc[k, 0], r[1] / 128 + anc[k, 1], r[2] / 128, r[3] / 128
    box = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]) * W
    kps = np.array([[(r[4 + 2 * q] / 128 + anc[k, 0]) * W, (r[5 + 2 * q] / 128 + anc[k, 1]) * H] for q in range(6)])
    return float(sc[k]), box, kps


def main(path):
    rgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
    s, box, pts = retinaface(rgb)
    print(f"retinaface: score {s:.4f} box {box.round(1).tolist()}\n  landmarks {pts.round(1).tolist()}")
    assert s > 0.9
    assert pts[0, 0] < pts[1, 0] and pts[3, 0] < pts[4, 0], "right eye / right mouth corner are on the image's left"
    bs, bbox, kps = blazeface(rgb)
    print(f"blazeface: score {bs:.4f} box {bbox.round(1).tolist()}\n  keypoints {kps.round(1).tolist()}")
    assert bs > 0.5
    assert np.abs(kps[:3] - pts[:3]).max() < 12, "blazeface eyes/nose agree with retinaface"
    assert kps[4, 0] < kps[0, 0] < kps[1, 0] < kps[5, 0], "right ear, right eye, left eye, left ear from image left"

    mx, _ = cv2.estimateAffinePartial2D(pts.astype(np.float32), ARCFACE_112, method=cv2.LMEDS)
    al = cv2.warpAffine(rgb, mx, (112, 112))
    mfn = sess("mobilefacenet")

    def emb(img):
        e = mfn.run(None, {"input": ((img.astype(np.float32) - 127.5) / 128)[None]})[0][0]
        return e / np.linalg.norm(e)

    e0 = emb(al)
    flip = float(e0 @ emb(np.ascontiguousarray(al[:, ::-1])))
    blur = float(e0 @ emb(cv2.warpAffine(cv2.GaussianBlur(rgb, (5, 5), 0), mx, (112, 112))))
    other = float(e0 @ emb(cv2.resize(rgb[300:500, 300:500], (112, 112))))
    print(f"mobilefacenet cosine: mirrored {flip:.3f}, blurred {blur:.3f}, non-face patch {other:.3f}")
    assert flip > 0.6 and blur > 0.6 and other < 0.4

    x0, y0, x1, y1 = box
    c, sz = ((x0 + x1) / 2, (y0 + y1) / 2), max(x1 - x0, y1 - y0) * 1.2
    crop = rgb[int(c[1] - sz / 2):int(c[1] + sz / 2), int(c[0] - sz / 2):int(c[0] + sz / 2)].astype(np.float32) / 255

    def run(name, inp):
        se = sess(name)
        return se.run(None, {se.get_inputs()[0].name: inp[None]})[0][0]

    print("antispoof real-score", run("antispoof", cv2.resize(crop, (128, 128))))
    print("liveness [0]=live per Human", run("liveness", cv2.resize(crop, (32, 32))))
    print("age", run("age", cv2.resize(crop, (64, 64)) * 255))
    g = cv2.resize(crop, (64, 64)) @ np.array([0.2989, 0.5870, 0.1140], np.float32)
    gen = run("gender", ((g - 0.5) * 2)[..., None])
    print("gender [female, male]", gen)
    assert gen[0] > gen[1], "the astronaut photo (Eileen Collins) is of a woman"
    print("sanity OK")


if __name__ == "__main__":
    main(sys.argv[1])
