"""The PIL + numpy side of the benchmark: the work mlx-vlm does per image
for Qwen2-VL, step for step, with the same library calls (no model
loading, no tokenizer, torch-free):
  - mlx_vlm.utils.load_image: Image.open, ImageOps.exif_transpose,
    convert("RGB");
  - Qwen2VLProcessor's image processor is the numpy Qwen3VLImageProcessor
    (mlx_vlm/models/qwen3_vl/processing_qwen3_vl.py): _to_numpy_image
    (convert("RGB"), np.array, HWC -> CHW view), smart_resize,
    _resize_video_frames (Image.fromarray of the frame, PIL BICUBIC
    resize, np.array back into a CHW uint8 array), float32 rescale and
    normalise, temporal repeat, patchify, concatenate over images.
Prints the best wall time and the best CPU time of N runs in ms, then the
output shape and grid.
Usage: pil_qwen2vl.py IMAGE N"""
import math, sys, time
import numpy as np
from PIL import Image, ImageOps

MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]
PS, TPS, MS, MIN_PIX, MAX_PIX = 14, 2, 2, 56 * 56, 28 * 28 * 1280


def load_image(path):   # mlx_vlm.utils.load_image
    return ImageOps.exif_transpose(Image.open(path)).convert("RGB")


def to_numpy_image(img):   # _to_numpy_image
    arr = np.array(img.convert("RGB"))
    return np.transpose(arr, (2, 0, 1))


def smart_resize(h, w, factor=PS * MS):   # _smart_resize_image
    h_bar, w_bar = round(h / factor) * factor, round(w / factor) * factor
    if h_bar * w_bar > MAX_PIX:
        beta = math.sqrt((h * w) / MAX_PIX)
        h_bar = max(factor, math.floor(h / beta / factor) * factor)
        w_bar = max(factor, math.floor(w / beta / factor) * factor)
    elif h_bar * w_bar < MIN_PIX:
        beta = math.sqrt(MIN_PIX / (h * w))
        h_bar, w_bar = math.ceil(h * beta / factor) * factor, math.ceil(w * beta / factor) * factor
    return h_bar, w_bar


def resize_frames(video, th, tw):   # _resize_video_frames (uint8 frames)
    T, C, H, W = video.shape
    if th == H and tw == W:
        return video
    out = np.empty((T, C, th, tw), dtype=video.dtype)
    for i, frame in enumerate(video):
        pil = Image.fromarray(np.transpose(frame, (1, 2, 0)))
        pil = pil.resize((tw, th), resample=Image.BICUBIC)
        out[i] = np.transpose(np.array(pil), (2, 0, 1))
    return out


def process_one(image):   # Qwen3VLImageProcessor._process_one
    C, H, W = image.shape
    rh, rw = smart_resize(H, W)
    frame = resize_frames(image[None, ...], rh, rw)[0]
    img = frame.astype(np.float32) * (1 / 255.0)
    mean = np.array(MEAN, dtype=np.float32)[:, None, None]
    std = np.array(STD, dtype=np.float32)[:, None, None]
    img = (img - mean) / std
    patches = np.repeat(img[None, None, ...], TPS, axis=1)
    gh, gw = rh // PS, rw // PS
    patches = patches.reshape(1, 1, TPS, C, gh // MS, MS, PS, gw // MS, MS, PS)
    patches = patches.transpose(0, 1, 4, 7, 5, 8, 3, 2, 6, 9)
    return patches.reshape(1, gh * gw, C * TPS * PS * PS)[0], [1, gh, gw]


def preprocess(path):   # load_image, then Qwen3VLImageProcessor.__call__
    patches, thw = process_one(to_numpy_image(load_image(path)))
    return np.concatenate([patches], axis=0), thw


best_wall = best_cpu = float("inf")
for _ in range(int(sys.argv[2])):
    w0, c0 = time.perf_counter(), time.process_time()
    pixel_values, grid = preprocess(sys.argv[1])
    best_wall = min(best_wall, time.perf_counter() - w0)
    best_cpu = min(best_cpu, time.process_time() - c0)
print(f"{best_wall * 1e3:.1f} {best_cpu * 1e3:.1f} {list(pixel_values.shape)} {list(grid)}")
