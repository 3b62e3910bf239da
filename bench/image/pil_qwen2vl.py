"""The PIL + numpy side of the benchmark: exactly the work mlx-vlm's numpy
Qwen2-VL processor does per image (mlx_vlm/models/qwen3_vl/
processing_qwen3_vl.py): open, exif_transpose, convert("RGB"), smart_resize,
PIL BICUBIC resize, float32 rescale + normalise, temporal repeat, patchify.
Prints the best wall time and the best CPU time of N runs in ms.
Usage: pil_qwen2vl.py IMAGE N"""
import math, sys, time
import numpy as np
from PIL import Image, ImageOps

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)[:, None, None]
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)[:, None, None]
PS, TPS, MS, MIN_PIX, MAX_PIX = 14, 2, 2, 56 * 56, 28 * 28 * 1280


def smart_resize(h, w, factor=PS * MS):
    h_bar, w_bar = round(h / factor) * factor, round(w / factor) * factor
    if h_bar * w_bar > MAX_PIX:
        beta = math.sqrt((h * w) / MAX_PIX)
        h_bar = max(factor, math.floor(h / beta / factor) * factor)
        w_bar = max(factor, math.floor(w / beta / factor) * factor)
    elif h_bar * w_bar < MIN_PIX:
        beta = math.sqrt(MIN_PIX / (h * w))
        h_bar, w_bar = math.ceil(h * beta / factor) * factor, math.ceil(w * beta / factor) * factor
    return h_bar, w_bar


def preprocess(path):
    img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    rh, rw = smart_resize(img.height, img.width)
    img = np.transpose(np.array(img.resize((rw, rh), resample=Image.BICUBIC)), (2, 0, 1))
    x = (img.astype(np.float32) * (1 / 255.0) - MEAN) / STD
    p = np.repeat(x[None, None, ...], TPS, axis=1)
    gh, gw = rh // PS, rw // PS
    p = p.reshape(1, 1, TPS, 3, gh // MS, MS, PS, gw // MS, MS, PS)
    p = p.transpose(0, 1, 4, 7, 5, 8, 3, 2, 6, 9).reshape(gh * gw, 3 * TPS * PS * PS)
    return p, (1, gh, gw)


best_wall = best_cpu = float("inf")
for _ in range(int(sys.argv[2])):
    w0, c0 = time.perf_counter(), time.process_time()
    pixel_values, grid = preprocess(sys.argv[1])
    best_wall = min(best_wall, time.perf_counter() - w0)
    best_cpu = min(best_cpu, time.process_time() - c0)
print(f"{best_wall * 1e3:.1f} {best_cpu * 1e3:.1f} {list(pixel_values.shape)} {list(grid)}")
