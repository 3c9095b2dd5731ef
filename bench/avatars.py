"""Avatar benchmark (run by hand): CPU to check and re-encode one upload, against a bare decode.

    .venv/bin/python bench/avatars.py [--repeat N]

No database or storage: `accounts.avatar_images.avatar_render` (header check, verify, decode, EXIF
turn, crop, resize, WebP) on pictures of several formats and sizes, timed with the process CPU
clock; the baseline, in the same run, is Pillow decoding the same bytes and nothing else
(`Image.open(...).load()`), the least any server that looks at the pixels must pay. Prints one
JSON document.
"""

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from PIL import Image  # noqa: E402

from accounts.avatar_images import avatar_render  # noqa: E402

SHAPES = [("JPEG", 4096), ("JPEG", 1024), ("PNG", 4096), ("PNG", 1024), ("WEBP", 2048)]


def picture(kind: str, side: int) -> bytes:
    """A gradient with some texture (so the encoders have real work), saved as `kind`."""
    gradient = Image.linear_gradient("L").resize((side, side))
    image = Image.merge("RGB", (gradient, gradient.rotate(90), Image.effect_noise((side, side), 40)))
    out = io.BytesIO()
    image.save(out, kind, **({"quality": 90} if kind != "PNG" else {}))
    return out.getvalue()


def render_one(data: bytes) -> bytes:
    return avatar_render(data, size=settings.AVATAR_SIZE, max_pixels=settings.AVATAR_MAX_PIXELS)


def cpu_ms(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        call()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for kind, side in SHAPES:
        data = picture(kind, side)
        decode = cpu_ms(lambda data=data: Image.open(io.BytesIO(data)).load(), args.repeat)
        render = cpu_ms(lambda data=data: render_one(data), args.repeat)
        stored = render_one(data)
        rows.append(
            {
                "upload": f"{kind} {side}x{side}",
                "bytes": len(data),
                "bare_decode_cpu_ms": round(decode, 1),
                "avatar_render_cpu_ms": round(render, 1),
                "ratio": round(render / decode, 2) if decode else None,
                "stored_bytes": len(stored),
            }
        )
    machine = platform.processor() or platform.machine()
    print(json.dumps({"machine": machine, "repeat": args.repeat, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
