#!/usr/bin/env python3
"""Make (or check) the golden fixtures for SliceEngine's neural-network operators.

Each fixture is one small safetensors file, Tests/SliceEngineTests/Fixtures/<op>-<n>.safetensors, holding the
inputs, parameters and expected output of one operator call, computed by PyTorch (CPU) in float64 from
float32 inputs and stored as float32.  See Tests/SliceEngineTests/Fixtures/README.md.

Usage:
    PYTHONPATH=/tmp/torchlib python3 scripts/make-golden-fixtures.py           # regenerate, then --check
    python3 scripts/make-golden-fixtures.py --check                            # numpy only, no torch needed

Generation needs PyTorch (made with torch 2.13.0+cpu) and numpy; --check needs only numpy.

Reference maths: every output is computed by PyTorch in float64 except the bicubic_up case with a = -0.5
(PyTorch's bicubic kernel is fixed at a = -0.75).  That one comes from this script's own float64 Keys-kernel
implementation, which is first checked against PyTorch's a = -0.75 result (it must agree to 1e-9).

--check re-reads every fixture with an independent reader (header length, padding, JSON, dtypes, offsets,
shapes, expected tensor names, shapes implied by the op) and recomputes every output with an independent
numpy float64 implementation of the op, comparing it with the stored float32 output.

Format: 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON padded with spaces to a multiple of 8,
then raw little-endian float32 data.  JSON: {"__metadata__": {"op", "params" (a JSON string), "source"},
"<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}.  Tensor names: input [C,H,W],
weight, bias, slope (PReLU, per channel), residual / base (second input), output [C,H,W].  Weight layouts are
PyTorch's: Conv2d [Cout,Cin,k,k], depthwise [C,1,k,k], pointwise [Cout,Cin,1,1], ConvTranspose2d [Cin,Cout,k,k].
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DIR = os.path.join(REPO, "Tests", "SliceEngineTests", "Fixtures")
BASE_SEED = 20240611


# ---------------------------------------------------------------------------------------------------------
# Writer
# ---------------------------------------------------------------------------------------------------------

def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, float32 numpy array) in storage order; metadata: dict of str -> str."""
    header = {"__metadata__": metadata}
    body = bytearray()
    for name, array in tensors:
        a = np.ascontiguousarray(array, dtype="<f4")
        begin = len(body)
        body += a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [begin, len(body)]}
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        f.write(bytes(body))


# ---------------------------------------------------------------------------------------------------------
# Independent reader (used by --check; does not share code with the writer)
# ---------------------------------------------------------------------------------------------------------

class FixtureError(Exception):
    pass


def read_safetensors(path):
    data = open(path, "rb").read()
    if len(data) < 8:
        raise FixtureError("shorter than 8 bytes")
    (n,) = struct.unpack_from("<Q", data, 0)
    if n < 2 or 8 + n > len(data):
        raise FixtureError(f"bad header length {n} for a {len(data)}-byte file")
    if n % 8 != 0:
        raise FixtureError(f"header length {n} is not a multiple of 8")
    text = data[8:8 + n].decode("utf-8")
    stripped = text.rstrip(" ")
    if not stripped.endswith("}") or len(text) - len(stripped) >= 8:
        raise FixtureError("header padding is not 0..7 spaces after the JSON object")
    header = json.loads(stripped)
    if not isinstance(header, dict):
        raise FixtureError("header is not a JSON object")
    body = data[8 + n:]
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise FixtureError("__metadata__ missing or not a string map")
    for key in ("op", "params", "source"):
        if key not in meta:
            raise FixtureError(f"__metadata__ lacks '{key}'")
    params = json.loads(meta["params"])
    if not isinstance(params, dict):
        raise FixtureError("params is not a JSON object")
    tensors, ranges = {}, []
    for name, info in header.items():
        if set(info) != {"dtype", "shape", "data_offsets"}:
            raise FixtureError(f"tensor '{name}' has keys {sorted(info)}")
        if info["dtype"] != "F32":
            raise FixtureError(f"tensor '{name}' has dtype {info['dtype']}")
        shape = info["shape"]
        if not all(isinstance(d, int) and d > 0 for d in shape):
            raise FixtureError(f"tensor '{name}' has bad shape {shape}")
        begin, end = info["data_offsets"]
        if not (0 <= begin <= end <= len(body)):
            raise FixtureError(f"tensor '{name}' offsets {begin}..{end} outside {len(body)}-byte data")
        if end - begin != 4 * math.prod(shape):
            raise FixtureError(f"tensor '{name}' shape {shape} needs {4 * math.prod(shape)} bytes, has {end - begin}")
        ranges.append((begin, end, name))
        tensors[name] = np.frombuffer(body, dtype="<f4", count=math.prod(shape), offset=begin).reshape(shape)
    ranges.sort()
    pos = 0
    for begin, end, name in ranges:
        if begin != pos:
            raise FixtureError(f"tensor '{name}' starts at {begin}, expected {pos} (gap or overlap)")
        pos = end
    if pos != len(body):
        raise FixtureError(f"data section has {len(body) - pos} trailing bytes")
    for name, t in tensors.items():
        if not np.all(np.isfinite(t)):
            raise FixtureError(f"tensor '{name}' has non-finite values")
    return meta, params, tensors


# ---------------------------------------------------------------------------------------------------------
# Independent numpy float64 reference (used by --check, and bicubic a != -0.75 during generation)
# ---------------------------------------------------------------------------------------------------------

def np_activation(y, activation, slope):
    if activation == "none":
        return y
    if activation == "relu":
        return np.maximum(y, 0.0)
    if activation == "prelu":
        return np.where(y > 0, y, slope[:, None, None] * y)
    raise FixtureError(f"unknown activation {activation}")


def np_conv(x, w, b, groups=1):
    """Stride-1 'same' convolution with replicate padding; x [Cin,H,W], w [Cout,Cin/groups,k,k]."""
    cout, cin_g, k, _ = w.shape
    c, h, wd = x.shape
    p = k // 2
    xp = np.pad(x, ((0, 0), (p, p), (p, p)), mode="edge")
    out = np.zeros((cout, h, wd))
    opg = cout // groups
    for o in range(cout):
        g = o // opg
        for ci in range(cin_g):
            src = xp[g * cin_g + ci]
            for dy in range(k):
                for dx in range(k):
                    out[o] += w[o, ci, dy, dx] * src[dy:dy + h, dx:dx + wd]
    return out + b[:, None, None]


def np_transposed(x, w, b, k, p, op, stride=2):
    cin, h, wd = x.shape
    cout = w.shape[1]
    ho = (h - 1) * stride - 2 * p + k + op
    wo = (wd - 1) * stride - 2 * p + k + op
    full = np.zeros((cout, max((h - 1) * stride + k, ho + p), max((wd - 1) * stride + k, wo + p)))
    for i in range(h):
        for j in range(wd):
            full[:, stride * i:stride * i + k, stride * j:stride * j + k] += np.einsum("c,cokl->okl", x[:, i, j], w)
    return full[:, p:p + ho, p:p + wo] + b[:, None, None]


def np_pixel_shuffle(x, r=2):
    c4, h, w = x.shape
    c = c4 // (r * r)
    return x.reshape(c, r, r, h, w).transpose(0, 3, 1, 4, 2).reshape(c, h * r, w * r)


def np_pixel_unshuffle(x, r=2):
    c, h, w = x.shape
    return x.reshape(c, h // r, r, w // r, r).transpose(0, 2, 4, 1, 3).reshape(c * r * r, h // r, w // r)


def keys_weight(d, a):
    d = abs(d)
    if d <= 1:
        return (a + 2) * d ** 3 - (a + 3) * d ** 2 + 1
    if d < 2:
        return a * d ** 3 - 5 * a * d ** 2 + 8 * a * d - 4 * a
    return 0.0


def resample_matrix_bicubic(n, a, scale=2):
    """[n*scale, n] matrix: output sample o = sum_j M[o, j] * input[j]; taps clamped to the border."""
    m = np.zeros((n * scale, n))
    for o in range(n * scale):
        s = (o + 0.5) / scale - 0.5
        f = math.floor(s)
        for t in range(f - 1, f + 3):
            m[o, min(max(t, 0), n - 1)] += keys_weight(s - t, a)
    return m


def resample_matrix_bilinear(n, scale=2):
    m = np.zeros((n * scale, n))
    for o in range(n * scale):
        s = max((o + 0.5) / scale - 0.5, 0.0)  # PyTorch clamps negative source coordinates for linear modes
        i0 = int(math.floor(s))
        i1 = min(i0 + 1, n - 1)
        lam = s - i0
        m[o, i0] += 1 - lam
        m[o, i1] += lam
    return m


def np_separable(x, my, mx):
    return np.einsum("oh,chw,pw->cop", my, x, mx)


def np_bicubic_up(x, a):
    _, h, w = x.shape
    return np_separable(x, resample_matrix_bicubic(h, a), resample_matrix_bicubic(w, a))


def np_bilinear_up(x):
    _, h, w = x.shape
    return np_separable(x, resample_matrix_bilinear(h), resample_matrix_bilinear(w))


def np_area_down(x):
    c, h, w = x.shape
    x = x[:, :h // 2 * 2, :w // 2 * 2]
    return x.reshape(c, h // 2, 2, w // 2, 2).mean(axis=(2, 4))


def np_reference(op, params, t):
    """Recompute 'output' from the stored tensors (float64); also checks the tensor set and shapes."""
    f = {k: v.astype(np.float64) for k, v in t.items()}
    x = f["input"]
    if x.ndim != 3:
        raise FixtureError(f"input shape {x.shape} is not [C,H,W]")
    c, h, w = x.shape
    expect = {"input", "output"}
    act = params.get("activation", "none")
    if op in ("conv", "depthwise", "pointwise", "transposed"):
        expect |= {"weight", "bias"}
        if act == "prelu":
            expect.add("slope")
    if op == "pointwise" and params.get("residual"):
        expect.add("residual")
    if op == "depth_to_space" and params.get("base"):
        expect.add("base")
    if set(t) != expect:
        raise FixtureError(f"tensors {sorted(t)}, expected {sorted(expect)}")

    def need(name, shape):
        if tuple(t[name].shape) != tuple(shape):
            raise FixtureError(f"'{name}' has shape {list(t[name].shape)}, expected {list(shape)}")

    if op == "conv":
        k = params["kernel"]
        cout = f["weight"].shape[0]
        need("weight", (cout, c, k, k)); need("bias", (cout,))
        if act == "prelu":
            need("slope", (cout,))
        y = np_activation(np_conv(x, f["weight"], f["bias"]), act, f.get("slope"))
    elif op == "depthwise":
        k = params["kernel"]
        need("weight", (c, 1, k, k)); need("bias", (c,))
        if act == "prelu":
            need("slope", (c,))
        y = np_activation(np_conv(x, f["weight"], f["bias"], groups=c), act, f.get("slope"))
    elif op == "pointwise":
        cout = f["weight"].shape[0]
        need("weight", (cout, c, 1, 1)); need("bias", (cout,))
        if act == "prelu":
            need("slope", (cout,))
        y = np_activation(np.einsum("oc,chw->ohw", f["weight"][:, :, 0, 0], x) + f["bias"][:, None, None],
                          act, f.get("slope"))
        if params.get("residual"):
            need("residual", y.shape)
            y = y + f["residual"]
    elif op == "space_to_depth":
        if h % 2 or w % 2:
            raise FixtureError("space_to_depth input must have even H and W")
        y = np_pixel_unshuffle(x)
    elif op == "depth_to_space":
        if c % 4:
            raise FixtureError("depth_to_space input channels must be a multiple of 4")
        y = np_pixel_shuffle(x)
        if params.get("base"):
            need("base", y.shape)
            y = y + f["base"]
    elif op == "transposed":
        k, p, opad = params["kernel"], params["padding"], params["output_padding"]
        cout = f["weight"].shape[1]
        need("weight", (c, cout, k, k)); need("bias", (cout,))
        y = np_transposed(x, f["weight"], f["bias"], k, p, opad)
    elif op == "bicubic_up":
        y = np_bicubic_up(x, params["a"])
    elif op == "bilinear_up":
        y = np_bilinear_up(x)
    elif op == "area_down":
        y = np_area_down(x)
    else:
        raise FixtureError(f"unknown op {op}")
    need("output", y.shape)
    return y


def check(directory):
    names = sorted(n for n in os.listdir(directory) if n.endswith(".safetensors"))
    if not names:
        print(f"no fixtures in {directory}", file=sys.stderr)
        return 1
    failures, total = 0, 0
    for name in names:
        path = os.path.join(directory, name)
        size = os.path.getsize(path)
        total += size
        try:
            meta, params, tensors = read_safetensors(path)
            if not name.startswith(meta["op"] + "-"):
                raise FixtureError(f"file name does not start with op '{meta['op']}'")
            ref = np_reference(meta["op"], params, tensors)
            err = float(np.max(np.abs(ref - tensors["output"].astype(np.float64))))
            # stored outputs are float64 results rounded to float32: error <= half an ulp (+ tiny slack)
            tol = 1e-6 * max(1.0, float(np.max(np.abs(ref))))
            if err > tol:
                raise FixtureError(f"output differs from numpy reference by {err:.3g} (tolerance {tol:.3g})")
            shapes = " ".join(f"{k}{list(v.shape)}" for k, v in tensors.items())
            print(f"ok   {name:30s} {size:6d} B  max|numpy-stored|={err:.2e}  {shapes}")
        except (FixtureError, KeyError, ValueError, TypeError) as e:
            failures += 1
            print(f"FAIL {name}: {e}")
    print(f"{len(names)} fixtures, {total} bytes, {failures} failures")
    return 1 if failures else 0


# ---------------------------------------------------------------------------------------------------------
# Generation (PyTorch)
# ---------------------------------------------------------------------------------------------------------

def generate(directory):
    import torch
    import torch.nn.functional as F

    torch.use_deterministic_algorithms(True)
    source = f"pytorch {torch.__version__}"
    os.makedirs(directory, exist_ok=True)
    for n in os.listdir(directory):
        if n.endswith(".safetensors"):
            os.remove(os.path.join(directory, n))

    counters = {}
    state = {"seed": BASE_SEED}

    def rng():
        state["seed"] += 1
        g = torch.Generator().manual_seed(state["seed"])
        return g

    def uniform(g, shape, lo=0.0, hi=1.0):
        # float32 values (exactly what is stored), then float64 for the maths
        return (torch.rand(shape, generator=g, dtype=torch.float32) * (hi - lo) + lo).to(torch.float32)

    def f64(t):
        return t.to(torch.float64).unsqueeze(0) if t.dim() == 3 else t.to(torch.float64)

    def activate(y, activation, slope):
        if activation == "none":
            return y
        if activation == "relu":
            return F.relu(y)
        if activation == "prelu":
            return F.prelu(y, slope.to(torch.float64))
        raise ValueError(activation)

    def emit(op, params, tensors, out, src=source):
        counters[op] = counters.get(op, 0) + 1
        name = f"{op}-{counters[op]}.safetensors"
        out = out.squeeze(0) if out.dim() == 4 else out
        arrays = [(k, v.numpy()) for k, v in tensors] + [("output", out.to(torch.float32).numpy())]
        meta = {"op": op, "params": json.dumps(params, sort_keys=True, separators=(",", ":")), "source": src}
        write_safetensors(os.path.join(directory, name), arrays, meta)
        print(f"wrote {name}")

    # 1. conv: Conv2d, stride 1, padding k//2 replicate, bias, activation
    for k, cin, cout, (h, w), act in [
        (3, 1, 4, (6, 9), "none"),
        (3, 3, 2, (5, 7), "relu"),
        (3, 1, 4, (8, 8), "prelu"),
        (5, 3, 2, (7, 10), "none"),
        (5, 1, 4, (5, 7), "prelu"),
    ]:
        g = rng()
        x = uniform(g, (cin, h, w))
        wt = uniform(g, (cout, cin, k, k), -0.5, 0.5)
        b = uniform(g, (cout,), -0.5, 0.5)
        slope = uniform(g, (cout,), 0.0, 0.5) if act == "prelu" else None
        p = k // 2
        y = F.conv2d(F.pad(f64(x), (p, p, p, p), mode="replicate"), f64(wt), f64(b))
        y = activate(y, act, slope)
        ts = [("input", x), ("weight", wt), ("bias", b)] + ([("slope", slope)] if slope is not None else [])
        emit("conv", {"kernel": k, "activation": act}, ts, y)

    # 2. depthwise: Conv2d(C, C, k, groups=C, padding_mode="replicate")
    for k, c, (h, w), act in [(3, 4, (6, 9), "none"), (5, 4, (7, 10), "prelu"), (3, 4, (5, 7), "prelu")]:
        g = rng()
        x = uniform(g, (c, h, w))
        wt = uniform(g, (c, 1, k, k), -0.5, 0.5)
        b = uniform(g, (c,), -0.5, 0.5)
        slope = uniform(g, (c,), 0.0, 0.5) if act == "prelu" else None
        p = k // 2
        y = F.conv2d(F.pad(f64(x), (p, p, p, p), mode="replicate"), f64(wt), f64(b), groups=c)
        y = activate(y, act, slope)
        ts = [("input", x), ("weight", wt), ("bias", b)] + ([("slope", slope)] if slope is not None else [])
        emit("depthwise", {"kernel": k, "activation": act}, ts, y)

    # 3. pointwise: 1x1 conv, optional residual added after the activation
    for cin, cout, (h, w), act, residual in [
        (5, 3, (6, 9), "none", False),
        (16, 16, (8, 8), "prelu", False),
        (5, 3, (7, 10), "prelu", False),
        (16, 16, (5, 7), "prelu", True),
    ]:
        g = rng()
        x = uniform(g, (cin, h, w))
        wt = uniform(g, (cout, cin, 1, 1), -0.5, 0.5)
        b = uniform(g, (cout,), -0.5, 0.5)
        slope = uniform(g, (cout,), 0.0, 0.5) if act == "prelu" else None
        res = uniform(g, (cout, h, w)) if residual else None
        y = activate(F.conv2d(f64(x), f64(wt), f64(b)), act, slope)
        ts = [("input", x)]
        if residual:
            y = y + f64(res)
            ts.append(("residual", res))
        ts += [("weight", wt), ("bias", b)] + ([("slope", slope)] if slope is not None else [])
        emit("pointwise", {"activation": act, "residual": residual}, ts, y)

    # 4. space_to_depth: pixel_unshuffle by 2
    for c, (h, w) in [(1, (6, 8)), (2, (8, 10))]:
        g = rng()
        x = uniform(g, (c, h, w))
        emit("space_to_depth", {"factor": 2}, [("input", x)], F.pixel_unshuffle(f64(x), 2))

    # 5. depth_to_space: pixel_shuffle by 2, optional base added
    for c, (h, w), base in [(4, (5, 7), False), (8, (6, 9), False), (4, (7, 10), True)]:
        g = rng()
        x = uniform(g, (c, h, w))
        y = F.pixel_shuffle(f64(x), 2)
        ts = [("input", x)]
        if base:
            bt = uniform(g, (c // 4, 2 * h, 2 * w))
            y = y + f64(bt)
            ts.append(("base", bt))
        emit("depth_to_space", {"factor": 2, "base": base}, ts, y)

    # 6. transposed: ConvTranspose2d(Cin, Cout, k, stride=2, padding=p, output_padding=op), bias
    for k, p, opad, cin, cout, (h, w) in [
        (4, 1, 0, 3, 1, (5, 7)),
        (3, 1, 1, 3, 1, (6, 9)),
        (9, 4, 1, 3, 1, (5, 7)),
        (5, 2, 1, 3, 1, (7, 10)),
        (4, 1, 0, 3, 2, (6, 9)),
    ]:
        g = rng()
        x = uniform(g, (cin, h, w))
        wt = uniform(g, (cin, cout, k, k), -0.5, 0.5)
        b = uniform(g, (cout,), -0.5, 0.5)
        y = F.conv_transpose2d(f64(x), f64(wt), f64(b), stride=2, padding=p, output_padding=opad)
        assert tuple(y.shape[2:]) == (2 * h, 2 * w), y.shape
        emit("transposed", {"kernel": k, "padding": p, "output_padding": opad, "stride": 2},
             [("input", x), ("weight", wt), ("bias", b)], y)

    # 7. bicubic_up: PyTorch (a = -0.75), plus a = -0.5 from our own float64 Keys implementation
    for c, (h, w) in [(1, (6, 9)), (3, (5, 7))]:
        g = rng()
        x = uniform(g, (c, h, w))
        y = F.interpolate(f64(x), scale_factor=2, mode="bicubic", align_corners=False)
        mine = np_bicubic_up(x.numpy().astype(np.float64), -0.75)
        diff = float(np.max(np.abs(mine - y.squeeze(0).numpy())))
        print(f"own bicubic (a=-0.75) vs PyTorch, {c}x{h}x{w}: max |diff| = {diff:.3g}")
        if diff > 1e-9:
            sys.exit(f"own bicubic implementation disagrees with PyTorch ({diff})")
        emit("bicubic_up", {"a": -0.75, "factor": 2}, [("input", x)], y)
    for c, (h, w) in [(1, (7, 10)), (2, (5, 7))]:
        g = rng()
        x = uniform(g, (c, h, w))
        y = torch.from_numpy(np_bicubic_up(x.numpy().astype(np.float64), -0.5))
        emit("bicubic_up", {"a": -0.5, "factor": 2}, [("input", x)], y,
             src=f"float64 Keys-kernel reference in scripts/make-golden-fixtures.py (a=-0.5), "
                 f"validated against {source} bicubic (a=-0.75)")

    # 8. bilinear_up
    for c, (h, w) in [(1, (6, 9)), (3, (5, 7))]:
        g = rng()
        x = uniform(g, (c, h, w))
        y = F.interpolate(f64(x), scale_factor=2, mode="bilinear", align_corners=False)
        emit("bilinear_up", {"factor": 2}, [("input", x)], y)

    # 9. area_down: avg_pool2d(x, 2), odd trailing row/column dropped
    for c, (h, w) in [(1, (8, 8)), (2, (7, 9)), (3, (6, 10))]:
        g = rng()
        x = uniform(g, (c, h, w))
        emit("area_down", {"factor": 2}, [("input", x)], F.avg_pool2d(f64(x), 2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only re-read and re-validate the fixtures (numpy only)")
    ap.add_argument("--dir", default=DEFAULT_DIR, help=f"fixture directory (default {DEFAULT_DIR})")
    args = ap.parse_args()
    if not args.check:
        generate(args.dir)
    sys.exit(check(args.dir))


if __name__ == "__main__":
    main()
