"""Build the benchmark input: a 4032x3024 JPEG (a phone camera's size) tiled
from the real photos in tests/fixtures/images at native resolution, so it
has a photo's detail, saved by PIL at quality 92 with 4:2:0 chroma.
Usage: /usr/bin/python3 make_photo.py OUT.jpg"""
import sys
from PIL import Image

FIX = __file__.rsplit("/", 3)[0] + "/tests/fixtures/images/"
PHOTOS = ["mlxvlm_cats.jpg", "skimage_chelsea.png", "skimage_coffee.png",
          "skimage_motorcycle_left.png", "mlxvlm_demo_image3.jpg", "mpl_grace_hopper.jpg",
          "pillow_flower.jpg", "pillow_exif-72dpi-int.jpg"]
canvas = Image.new("RGB", (4032, 3024))
x = y = row_h = i = 0
while y < 3024:
    tile = Image.open(FIX + PHOTOS[i % len(PHOTOS)]).convert("RGB")
    i += 1
    if x + tile.width > 4032 and x > 0:
        x, y, row_h = 0, y + row_h, 0
        continue
    canvas.paste(tile, (x, y))
    x += tile.width
    row_h = max(row_h, tile.height)
canvas.save(sys.argv[1], quality=92, subsampling=2)
