"""NER sentences from templates, with their spans: the tests' (and demo's) offline NER data."""

import random

from models.tokens import Span

PEOPLE = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Zoë Durand", "Marie Curie", "Li Wei"]
PLACES = ["London", "Paris", "New York", "Kraków", "São Paulo", "Oslo"]
TEMPLATES = [
    "{p} moved to {l} in 1990 .",
    "Yesterday {p} visited {l} with friends .",
    "In {l} , {p} gave a talk .",
    "The letter from {p} arrived from {l} .",
    "{p} said that {l} was cold .",
    "We met {p} near {l} station .",
]


def sentences(n: int, seed: int = 0) -> list[tuple[str, list[Span]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        template = rng.choice(TEMPLATES)
        person, place = rng.choice(PEOPLE), rng.choice(PLACES)
        text = template.format(p=person, l=place)
        at_p, at_l = text.index(person), text.index(place)
        spans = sorted(
            [Span(at_p, at_p + len(person), "PER"), Span(at_l, at_l + len(place), "LOC")],
            key=lambda s: s.start,
        )
        out.append((text, spans))
    return out
