"""Demo data that the code makes or that ships in PyPI packages: no downloads."""

import io
import random
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (220, 50, 47), "green": (60, 170, 60), "blue": (38, 139, 210)}

NEWS = [
    ("The home side scored twice in the last ten minutes to win the derby.", "sports"),
    ("A late penalty decided the cup final after a goalless first half.", "sports"),
    ("The marathon record fell by eleven seconds on a cool, still morning.", "sports"),
    ("Their captain announced she will retire at the end of the season.", "sports"),
    ("Heavy rain is expected along the coast until Thursday night.", "weather"),
    ("A heatwave pushed temperatures past 38 degrees in the valley.", "weather"),
    ("Fog delayed the first flights of the day by nearly two hours.", "weather"),
    ("Snow closed the mountain pass for the third time this winter.", "weather"),
    ("The new phone ships with a larger battery and a slower charger.", "technology"),
    ("A security update fixes a flaw that let apps read other apps' files.", "technology"),
    ("The chip maker doubled the cache on its latest server processors.", "technology"),
    ("Researchers trained the model on a laptop in under an hour.", "technology"),
    ("The bakery's sourdough sells out before nine every Saturday.", "food"),
    ("Add the lemon zest last so that it keeps its aroma.", "food"),
    ("The night market offers dumplings, skewers and mango sticky rice.", "food"),
    ("Slow-roast the tomatoes with garlic for a sweeter sauce.", "food"),
    ("Weather cancelled the final round, so the organisers split the prize 🏆.", "sports"),
    ("Café owners say the new espresso beans taste of cocoa and cherry ☕.", "food"),
]

MESSAGES = [
    "Why was I charged twice for the same order?",
    "The app crashes every time I open the camera — please fix it urgently!",
    "Can I change my delivery address after paying?",
    "Thanks, the replacement arrived today and works perfectly.",
    "My package is a week late and nobody answers the phone.",
    "Is there a student discount on the yearly plan?",
    "URGENT: I cannot log in and my invoice is due tomorrow.",
    "The new update is great, but the dark mode is too dark.",
    "How do I export my data before closing the account?",
    "I was promised a refund in March and still have nothing.",
]
MESSAGE_TAGS = ("question", "complaint", "urgent", "praise")

PEOPLE = [
    "Ada Lovelace",
    "Alan Turing",
    "Grace Hopper",
    "Katherine Johnson",
    "Ibn al-Haytham",
    "Zoë Müller",
]
PLACES = ["London", "Paris", "Bletchley Park", "São Paulo", "Kyoto", "Nairobi"]
ORGS = ["the Royal Society", "Acme Corp", "the University of Manchester", "NASA", "the Red Cross"]
TEMPLATES = [
    "{person} met {person2} in {place} last spring.",
    "{person} gave a lecture at {org} in {place}.",
    "In {place}, {org} hired {person} as chief engineer.",
    "{person} wrote to {org} from {place} about the results.",
    "The award from {org} went to {person} and {person2}.",
]


def digit_images(count: int) -> Iterator[tuple[str, bytes]]:
    """scikit-learn's handwritten digits (shipped in its wheel), as 64×64 PNGs."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    for index in range(min(count, len(digits.images))):
        pixels = (255 - digits.images[index] * 255 / 16).astype(np.uint8)
        image = Image.fromarray(pixels, "L").resize((64, 64), Image.Resampling.NEAREST)
        yield f"digit-{index:04d}-label-{digits.target[index]}.png", _png(image)


def shape_images(count: int, seed: int = 3) -> Iterator[tuple[str, bytes]]:
    """Scenes of coloured circles, squares and triangles on a grey floor."""
    rng = random.Random(seed)
    for index in range(count):
        image = Image.new("RGB", (320, 240), (235, 235, 230))
        draw = ImageDraw.Draw(image)
        for _ in range(rng.randint(1, 3)):
            shape = rng.choice(SHAPES)
            colour = rng.choice(list(COLOURS.values()))
            x, y, size = rng.randint(10, 230), rng.randint(10, 150), rng.randint(30, 80)
            if shape == "circle":
                draw.ellipse((x, y, x + size, y + size), fill=colour)
            elif shape == "square":
                draw.rectangle((x, y, x + size, y + size), fill=colour)
            else:
                draw.polygon([(x + size / 2, y), (x + size, y + size), (x, y + size)], fill=colour)
        yield f"scene-{index:03d}.png", _png(image)


def ner_sentences(count: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    sentences = []
    for _ in range(count):
        person, person2 = rng.sample(PEOPLE, 2)
        sentences.append(
            rng.choice(TEMPLATES).format(
                person=person, person2=person2, place=rng.choice(PLACES), org=rng.choice(ORGS)
            )
        )
    return sentences


def dicom_files() -> Iterator[tuple[str, bytes]]:
    """A CT and an MR slice and a 10-frame MR from pydicom, a MONOCHROME1 CR from pydicom-data."""
    wanted = ["CT_small.dcm", "MR_small.dcm", "emri_small.dcm", "RG1_UNCI.dcm"]
    directories = [Path(pydicom.__file__).parent / "data" / "test_files"]
    for entry in entry_points(group="pydicom.data.external_sources"):
        directories.append(Path(entry.load()().data_path))
    for name in wanted:
        for directory in directories:
            if (directory / name).is_file():
                yield name, (directory / name).read_bytes()
                break


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jsonl(texts: list[str]) -> bytes:
    import json

    return "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in texts).encode()
