"""Make synthetic scans for the OCR reader's tests and benchmark.

A PDF drawn by :mod:`tests.pdfmaker` (synthetic reports: invented agency and
numbers) is rendered with pypdfium2 at a resolution, turned by a small angle,
blurred, given noise and JPEG artefacts, the way a page comes out of an office
scanner; the pages are then saved as an image-only PDF or as PNG/JPEG/TIFF.
Deterministic: the noise comes from a seeded generator.
"""

from __future__ import annotations

import io

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter


def render(pdf: bytes, dpi: int = 200, pages: list[int] | None = None) -> list[Image.Image]:
    """The pages of ``pdf`` (1-based numbers; all by default) as grey images at ``dpi``."""
    doc = pdfium.PdfDocument(pdf)
    try:
        numbers = pages or list(range(1, len(doc) + 1))
        return [doc[n - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for n in numbers]
    finally:
        doc.close()


def degrade(img: Image.Image, *, angle: float = 0.0, noise: float = 0.0, blur: float = 0.0, jpeg: int | None = None,
            seed: int = 0) -> Image.Image:
    """``img`` as a scanner gives it: turned ``angle`` degrees (counter-clockwise),
    Gaussian blur of radius ``blur`` px, Gaussian noise of σ ``noise`` grey
    levels plus 0.1 % salt-and-pepper pixels when ``noise`` > 0, then JPEG at
    quality ``jpeg``."""
    out = img.convert("L")
    if angle:
        out = out.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=255)
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        rng = np.random.default_rng(seed)
        a = np.asarray(out, dtype=np.float32) + rng.normal(0, noise, out.size[::-1])
        speck = rng.random(a.shape)
        a[speck < 0.0005] = 0
        a[speck > 0.9995] = 255
        out = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if jpeg:
        buf = io.BytesIO()
        out.save(buf, "JPEG", quality=jpeg)
        out = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    return out


def scan(pdf: bytes, dpi: int = 200, angles: tuple[float, ...] = (1.0, -1.0), noise: float = 8.0, blur: float = 0.6,
         jpeg: int | None = 75, pages: list[int] | None = None) -> list[Image.Image]:
    """The pages of ``pdf`` scanned (:func:`degrade`), page *i* turned by ``angles[i % len(angles)]``."""
    imgs = render(pdf, dpi, pages)
    return [degrade(im, angle=angles[i % len(angles)], noise=noise, blur=blur, jpeg=jpeg, seed=i)
            for i, im in enumerate(imgs)]


def image_pdf(images: list[Image.Image], dpi: int = 200) -> bytes:
    """An image-only PDF of ``images`` (no text layer), one page each."""
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return buf.getvalue()


def image_file(images: list[Image.Image], fmt: str = "PNG", **options) -> bytes:
    """``images`` saved as one file of format ``fmt`` (``PNG``/``JPEG``/``BMP``:
    the first page only; ``TIFF``: all pages)."""
    buf = io.BytesIO()
    if fmt == "TIFF":
        images[0].save(buf, "TIFF", save_all=True, append_images=images[1:], **options)
    else:
        images[0].save(buf, fmt, **options)
    return buf.getvalue()
