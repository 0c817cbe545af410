"""Assistant benchmark on scikit-learn's digits (1,797 real 8×8 images, shipped in the wheel).

Labels arrive in 5 random orders. After 50, 200 and 800 labels the assistant trains (softmax
regression, 5-fold temperature calibration), picks the prelabel threshold for a 95% target
from held-out predictions (Wilson bound), exports to ONNX and runs on the unlabeled pool with
onnxruntime. Printed, as medians over the orders:
  accuracy on the pool; prelabel coverage (share of the pool over the threshold) and the
  realized precision of those prelabels, beside the plain observed-precision rule (z = 0) as
  the baseline; training time per round (all folds and the final fit);
  throughput: featurize+infer images/s (digits, and 512×512 colour images), inference
  items/s on feature rows; purity of clustered pages of 9 (on features before any model, on
  logits after 200 labels) against random pages.

    python bench/assist.py               # 5 orders
    python bench/assist.py --orders 2
"""

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy: threaded BLAS is far slower here

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
from sklearn.datasets import load_digits

from models.clustering import cluster_pages, page_purity
from models.image_features import image_features_batch
from models.inference import LinearPredictor
from models.onnx_export import export_model
from models.threshold import choose_threshold, multiclass_outcomes
from models.training import train_multiclass
from models.types import IntArray, UInt8Array

ROUNDS = (50, 200, 800)
TARGET = 0.95
PAGE = 9
CLASSES = tuple(str(i) for i in range(10))


def best_seconds(action: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return min(times)


def median(values: list[float]) -> float:
    clean = [v for v in values if v == v]  # NaN: no prelabels in that order
    return statistics.median(clean) if clean else float("nan")


def worst(values: list[float]) -> float:
    clean = [v for v in values if v == v]
    return min(clean) if clean else float("nan")


def show(value: float, width: int) -> str:
    return f"{'-':>{width}}" if value != value else f"{value:{width}.3f}"


def digits() -> tuple[list[UInt8Array], IntArray]:
    data = load_digits()
    images = [np.round(im * (255 / 16)).astype(np.uint8) for im in data.images]
    return images, data.target.astype(np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5)
    args = parser.parse_args()

    images, labels = digits()
    features = image_features_batch(images)
    n = len(labels)
    rows: dict[int, dict[str, list[float]]] = {r: {} for r in ROUNDS}
    purity: dict[str, list[float]] = {"features": [], "logits": [], "random": []}
    predictor: LinearPredictor | None = None

    for order_seed in range(args.orders):
        order = np.random.default_rng(order_seed).permutation(n)
        for count in ROUNDS:
            labeled, pool = order[:count], order[count:]
            began = time.perf_counter()
            result = train_multiclass(features[labeled], labels[labeled], CLASSES)
            seconds = time.perf_counter() - began
            predictor = LinearPredictor(export_model(result.model))
            probs = predictor.predict(features[pool]).probabilities
            confidence, correct = multiclass_outcomes(probs, labels[pool])
            held_conf, held_right = multiclass_outcomes(result.heldout, labels[labeled])
            row = rows[count]
            row.setdefault("accuracy", []).append(float(correct.mean()))
            row.setdefault("seconds", []).append(seconds)
            for name, z in (("wilson", 1.645), ("plain", 0.0)):
                chosen = choose_threshold(held_conf, held_right, TARGET, z=z).accepts(confidence)
                row.setdefault(f"{name}_coverage", []).append(float(chosen.mean()))
                precision = float(correct[chosen].mean()) if chosen.any() else float("nan")
                row.setdefault(f"{name}_precision", []).append(precision)
            if count == 200:
                logits = predictor.predict(features[pool]).logits
                pages = cluster_pages(logits, PAGE, seed=order_seed)
                purity["logits"].append(page_purity(pages, labels[pool]))
        pages = cluster_pages(features, PAGE, seed=order_seed)
        purity["features"].append(page_purity(pages, labels))
        shuffled = np.random.default_rng(1000 + order_seed).permutation(n).tolist()
        random_pages = [shuffled[i : i + PAGE] for i in range(0, n, PAGE)]
        purity["random"].append(page_purity(random_pages, labels))

    assert predictor is not None
    print(f"digits: {n} images, {features.shape[1]} features, {args.orders} label orders, medians")
    print(f"prelabel target precision {TARGET:.0%}\n")
    print(f"{'':18} |{' Wilson bound (z=1.645)':28}|{' plain rule (z=0): baseline':28}|")
    print("  labels  accuracy | coverage  precision  worst | coverage  precision  worst | train s")
    for count in ROUNDS:
        r = {k: median(v) for k, v in rows[count].items()}
        w = {k: worst(v) for k, v in rows[count].items()}
        print(
            f"{count:8d}  {r['accuracy']:8.3f} | {r['wilson_coverage']:8.3f}  "
            f"{show(r['wilson_precision'], 9)}  {show(w['wilson_precision'], 5)} | "
            f"{r['plain_coverage']:8.3f}  {show(r['plain_precision'], 9)}  "
            f"{show(w['plain_precision'], 5)} | {r['seconds']:7.3f}"
        )
    print("(precision: realized on the unlabeled pool; worst: the lowest of the orders)")
    at200 = {k: median(v) for k, v in rows[200].items()}
    print(
        f"target after 200 labels: coverage >= 0.60 (ratio {at200['wilson_coverage'] / 0.6:.2f}), "
        f"realized precision >= 0.95 (ratio {at200['wilson_precision'] / 0.95:.3f})\n"
    )

    big = np.random.default_rng(0).integers(0, 256, (100, 512, 512, 3), dtype=np.uint8)
    big_list = list(big)
    digit_s = best_seconds(lambda: predictor.predict(image_features_batch(images)), 3)
    big_s = best_seconds(lambda: predictor.predict(image_features_batch(big_list)), 3)
    batch = np.tile(features, (56, 1))  # ~100k rows
    infer_s = best_seconds(lambda: predictor.predict(batch))
    print(
        f"featurize+infer digits 8×8     {n / digit_s:10.0f} images/s  target >= 150 "
        f"(ratio {n / digit_s / 150:.0f}x)"
    )
    print(
        f"featurize+infer 512×512 colour {len(big) / big_s:10.0f} images/s  target >= 150 "
        f"(ratio {len(big) / big_s / 150:.2f}x)"
    )
    print(
        f"inference on feature rows      {len(batch) / infer_s:10.0f} items/s   "
        f"target >= 100000 (ratio {len(batch) / infer_s / 1e5:.0f}x)\n"
    )

    p = {k: median(v) for k, v in purity.items()}
    print(
        f"page purity (pages of {PAGE}): clustered on features {p['features']:.3f}, "
        f"on logits after 200 labels {p['logits']:.3f}, random {p['random']:.3f}"
    )
    print(
        f"target clustered >= 0.85 (ratio {p['features'] / 0.85:.2f}); "
        f"vs random {p['features'] / p['random']:.1f}x"
    )


if __name__ == "__main__":
    main()
