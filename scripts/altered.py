#!/usr/bin/python3
"""Where a published photo differs from its original, as a picture with none of the photo in it.

usage: altered.py ORIGINAL PUBLISHED OUT.png [BOXES.json]

Cells of 8x8 px (at 800 px wide) that falseblur.py (../shared/testdata) counts as altered (detail lost
or a strong difference) are white, the rest black; the faces boxed in BOXES.json (the shared sets'
format) are outlined in green. The README's before/after pairs are made with it: the shared photos
may not be published, a map of what was blurred holds nothing of them but the faces' places.
Needs Debian's python3 with numpy and Pillow.
"""
import json, os, sys
import numpy as np
from PIL import Image, ImageDraw, ImageOps

CELL, WIDTH = 8, 800


def gray(path, size):
    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("L")
        return np.asarray(im.resize(size, Image.BOX), dtype=np.float32)


def lap(a):
    p = np.pad(a, 1, mode="edge")
    return np.abs(4 * a - p[:-2, 1:-1] - p[2:, 1:-1] - p[1:-1, :-2] - p[1:-1, 2:])


def cells(x, h, w):
    hh, ww = h // CELL, w // CELL
    return x[: hh * CELL, : ww * CELL].reshape(hh, CELL, ww, CELL).mean(axis=(1, 3))


def main():
    orig, pub, out = sys.argv[1:4]
    with Image.open(pub) as im:
        w, h = ImageOps.exif_transpose(im).size
    size = (WIDTH, max(CELL, round(h * WIDTH / float(w))))
    a, b = gray(orig, size), gray(pub, size)
    H, W = a.shape
    da, db = cells(lap(a), H, W), cells(lap(b), H, W)
    altered = ((db < 0.30 * da) & (da >= 6.0)) | (cells(np.abs(a - b), H, W) > 15.0)
    img = Image.fromarray((altered * 255).astype(np.uint8)).resize((altered.shape[1] * CELL, altered.shape[0] * CELL), Image.NEAREST).convert("RGB")
    if len(sys.argv) > 4:
        boxes = json.load(open(sys.argv[4])).get(os.path.basename(orig), {})
        s = WIDTH / float(boxes.get("width", w))
        d = ImageDraw.Draw(img)
        for f in boxes.get("faces", []):
            x, y, bw, bh = [v * s for v in f[:4]]
            d.rectangle([x, y, x + bw, y + bh], outline=(0, 200, 60), width=2)
    img.save(out)
    print(f"{out}: {100 * altered.mean():.1f} % of the photo altered")


if __name__ == "__main__":
    main()
