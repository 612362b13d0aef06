"""Draw samples/cat_on_bed.png, the sample image for `attnviz cross --image` (a cat sitting on a bed).

Run: python scripts/make_sample_image.py   (Pillow only; the drawing is deterministic)
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "samples" / "cat_on_bed.png"


def draw(path: Path = OUT) -> None:
    img = Image.new("RGB", (320, 240), (236, 228, 210))  # wall
    d = ImageDraw.Draw(img)
    d.rectangle([0, 170, 320, 240], fill=(150, 110, 80))  # floor
    d.rectangle([30, 120, 290, 200], fill=(90, 120, 170))  # bed frame
    d.rectangle([40, 110, 280, 150], fill=(245, 245, 250))  # mattress and sheet
    d.rounded_rectangle([45, 95, 110, 125], radius=10, fill=(255, 255, 255), outline=(200, 200, 210))  # pillow
    d.ellipse([140, 70, 230, 140], fill=(240, 150, 60))  # cat body
    d.ellipse([195, 40, 250, 95], fill=(240, 150, 60))  # head
    d.polygon([(198, 55), (205, 28), (218, 48)], fill=(240, 150, 60))  # ears
    d.polygon([(228, 48), (242, 28), (248, 58)], fill=(240, 150, 60))
    d.ellipse([210, 58, 218, 66], fill=(40, 40, 40))  # eyes
    d.ellipse([230, 58, 238, 66], fill=(40, 40, 40))
    d.polygon([(222, 72), (227, 72), (224.5, 76)], fill=(200, 80, 90))  # nose
    d.arc([120, 90, 170, 150], start=90, end=250, fill=(200, 110, 40), width=8)  # tail
    for x in (150, 165, 205):  # stripes
        d.line([(x, 80), (x + 8, 130)], fill=(205, 115, 40), width=5)
    d.ellipse([255, 15, 300, 60], fill=(255, 215, 90))  # a lamp on the wall
    img.save(path, optimize=True)


if __name__ == "__main__":
    draw()
