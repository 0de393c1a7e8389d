"""Smaller model files with the same graph: large float weights are stored as int8 (symmetric, one
scale per output channel) or float16, and restored to float32 by Cast (+ Mul by the scales) nodes
on constants only. Every runtime folds those at load time (tract's constant propagation,
onnxruntime's constant folding), so inference runs in f32 exactly as before; only the weights'
precision changes, which models/README.md and the evals measure per model.

Deterministic: numpy rounding, names derived from the (content-hashed) initializer names.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Smaller tensors (biases, batch-norm folds, anchors) stay f32: they weigh nothing.
MIN_ELEMENTS = 256

# (op_type, input index) -> axis of the output channel of that weight input.
_CHANNEL_AXIS = {("Conv", 1): 0, ("ConvTranspose", 1): 1, ("MatMul", 1): -1}


def _channel_axis(array, uses):
    axes = set()
    for node, index in uses:
        if node.op_type == "Gemm" and index == 1:
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            axes.add(0 if trans_b else 1)
        elif (node.op_type, index) in _CHANNEL_AXIS:
            axes.add(_CHANNEL_AXIS[(node.op_type, index)] % array.ndim)
        else:
            return None
    return axes.pop() if len(axes) == 1 and array.ndim >= 2 else None


def store_weights(model, storage):
    """Rewrites `model` in place; `storage` is "int8", "f16" or "f32" (unchanged). In int8 mode a
    weight whose uses give no output-channel axis (not a Conv/MatMul/Gemm weight) is stored f16.
    Returns the number of tensors rewritten."""
    if storage == "f32":
        return 0
    assert storage in ("int8", "f16"), storage
    graph = model.graph
    uses = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            uses.setdefault(name, []).append((node, i))
    inits, restore, count = [], [], 0
    for init in graph.initializer:
        a = numpy_helper.to_array(init)
        if a.dtype != np.float32 or a.size < MIN_ELEMENTS or init.name not in uses:
            inits.append(init)
            continue
        count += 1
        axis = _channel_axis(a, uses[init.name]) if storage == "int8" else None
        if axis is None:
            h = numpy_helper.from_array(a.astype(np.float16), init.name + "_f16")
            inits.append(h)
            restore.append(helper.make_node("Cast", [h.name], [init.name], to=TensorProto.FLOAT,
                                            name=init.name + "_restore"))
            continue
        others = tuple(i for i in range(a.ndim) if i != axis)
        amax = np.abs(a).max(axis=others, keepdims=True)
        scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
        q = np.clip(np.rint(a / scale), -127, 127).astype(np.int8)
        qi = numpy_helper.from_array(q, init.name + "_i8")
        si = numpy_helper.from_array(scale, init.name + "_scale")
        inits += [qi, si]
        restore.append(helper.make_node("Cast", [qi.name], [init.name + "_f32"], to=TensorProto.FLOAT,
                                        name=init.name + "_cast"))
        restore.append(helper.make_node("Mul", [init.name + "_f32", si.name], [init.name],
                                        name=init.name + "_restore"))
    inits.sort(key=lambda t: t.name)
    nodes = list(graph.node)
    del graph.initializer[:]
    graph.initializer.extend(inits)
    del graph.node[:]
    graph.node.extend(restore + nodes)
    onnx.checker.check_model(model, full_check=True)
    return count
