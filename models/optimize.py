"""L-BFGS for the small smooth convex problems of training, in numpy.

Deterministic: no randomness, a fixed start, a fixed iteration budget. A backtracking line
search keeps every step a decrease; the run stops when the gradient is small, when the
objective no longer moves, or after `max_iter` iterations.
"""

from collections.abc import Callable

import numpy as np

from models.types import Float64Array

Objective = Callable[[Float64Array], tuple[float, Float64Array]]


def minimize(
    objective: Objective,
    start: Float64Array,
    *,
    max_iter: int = 300,
    memory: int = 10,
    gtol: float = 1e-5,
    ftol: float = 1e-10,
) -> tuple[Float64Array, float, int]:
    """Minimize `objective` (value and gradient) from `start`: (argmin, value, iterations)."""
    x = start.astype(np.float64, copy=True)
    f, g = objective(x)
    s_hist: list[Float64Array] = []
    y_hist: list[Float64Array] = []
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        if float(np.max(np.abs(g))) < gtol:
            break
        direction = -_two_loop(g, s_hist, y_hist)
        slope = float(direction @ g)
        if slope >= 0:  # not a descent direction: restart from steepest descent
            s_hist.clear()
            y_hist.clear()
            direction = -g
            slope = float(direction @ g)
        step = 1.0 if s_hist else min(1.0, 1.0 / max(float(np.linalg.norm(g)), 1e-12))
        for _ in range(40):
            x_new = x + step * direction
            f_new, g_new = objective(x_new)
            if f_new <= f + 1e-4 * step * slope:
                break
            step *= 0.5
        else:
            break
        s, y = x_new - x, g_new - g
        if float(s @ y) > 1e-12:
            s_hist.append(s)
            y_hist.append(y)
            if len(s_hist) > memory:
                s_hist.pop(0)
                y_hist.pop(0)
        done = abs(f - f_new) <= ftol * max(1.0, abs(f))
        x, f, g = x_new, f_new, g_new
        if done:
            break
    return x, f, iteration


def _two_loop(
    g: Float64Array, s_hist: list[Float64Array], y_hist: list[Float64Array]
) -> Float64Array:
    q = g.copy()
    alphas: list[float] = []
    rhos = [1.0 / float(s @ y) for s, y in zip(s_hist, y_hist, strict=True)]
    for s, y, rho in zip(reversed(s_hist), reversed(y_hist), reversed(rhos), strict=True):
        a = rho * float(s @ q)
        alphas.append(a)
        q -= a * y
    if s_hist:
        s, y = s_hist[-1], y_hist[-1]
        q *= float(s @ y) / float(y @ y)
    for (s, y, rho), a in zip(
        zip(s_hist, y_hist, rhos, strict=True), reversed(alphas), strict=True
    ):
        b = rho * float(y @ q)
        q += (a - b) * s
    return q


def golden_section(
    f: Callable[[float], float], low: float, high: float, *, tol: float = 1e-4
) -> float:
    """The minimum of a unimodal function of one variable on [low, high]."""
    ratio = (5**0.5 - 1) / 2
    a, b = low, high
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
    return (a + b) / 2
