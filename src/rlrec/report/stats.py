"""Summary statistics over seeds: mean, sample std, Student-t 95 % confidence half-width and
Welch's t-test, in pure Python so the report needs no scipy.

The t distribution's CDF is written through the regularised incomplete beta function,
``P(|T| > t) = I_{df/(df+t^2)}(df/2, 1/2)`` (Abramowitz & Stegun 26.7.1), which is evaluated by
its continued fraction (Numerical Recipes in C, 2nd ed., §6.4, ``betai``/``betacf``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_EPS = 3.0e-16
_TINY = 1.0e-300


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) by the modified Lentz method (NR §6.4 ``betacf``)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta continued fraction did not converge for a={a}, b={b}, x={x}")


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) for a, b > 0 and 0 <= x <= 1 (NR §6.4 ``betai``)."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must lie in [0, 1], got {x}")
    if x in (0.0, 1.0):
        return x
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` (possibly fractional) degrees of freedom."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    if math.isinf(t):
        return 0.0
    return regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


def t_quantile(probability: float, df: float) -> float:
    """The ``probability`` quantile of Student's t, by bisection on the CDF (monotone, so exact to
    float precision in ~100 halvings)."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must lie in (0, 1), got {probability}")
    if probability == 0.5:
        return 0.0
    upper_tail = 1.0 - probability if probability > 0.5 else probability  # P(T > q) for q > 0
    low, high = 0.0, 1.0
    while t_two_sided_p(high, df) / 2.0 > upper_tail:
        high *= 2.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if t_two_sided_p(mid, df) / 2.0 > upper_tail:
            low = mid
        else:
            high = mid
        if high - low <= 1e-15 * max(1.0, high):
            break
    q = (low + high) / 2.0
    return q if probability > 0.5 else -q


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; NaN for a single value)."""
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, math.nan
    return mean, math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))


def ci95_half_width(values: Sequence[float]) -> float:
    """Half-width of the 95 % confidence interval of the mean: t_{0.975, n-1} · s / sqrt(n)."""
    n = len(values)
    if n < 2:
        return math.nan
    _, std = mean_std(values)
    return t_quantile(0.975, n - 1) * std / math.sqrt(n)


def welch_p_value(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of Welch's unequal-variance t-test (Welch, Biometrika 1947), with the
    Welch–Satterthwaite degrees of freedom. NaN when either group has fewer than two values or
    both have zero variance (then the test is undefined unless the means differ, where p = 0)."""
    if len(a) < 2 or len(b) < 2:
        return math.nan
    mean_a, std_a = mean_std(a)
    mean_b, std_b = mean_std(b)
    va, vb = std_a**2 / len(a), std_b**2 / len(b)
    if va + vb == 0:
        return math.nan if mean_a == mean_b else 0.0
    t = (mean_a - mean_b) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return t_two_sided_p(t, df)
