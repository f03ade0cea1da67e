"""Golden values for Pearson r at large offsets (issue: digits lost at 1e12).

Pairs x = offset + noise, y = offset + noise (independent, and correlated at
rho = 0.6) for offsets 1e6, 1e9, 1e12 and 1e15, 500 pairs each, as Float64.
The expected r is computed from the very same Float64 values with exact
rational arithmetic (fractions.Fraction) and rounded once, so it is what a
perfect algorithm returns. Standard library only:

    python3 tests/golden/make_offsets.py   # writes offsets_pairs.csv, offsets_expected.csv
"""
import csv
import math
import os
import random
from decimal import Decimal, getcontext
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
getcontext().prec = 60


def exact_r(xs, ys):
    n = len(xs)
    fx, fy = [Fraction(v) for v in xs], [Fraction(v) for v in ys]
    mx, my = sum(fx) / n, sum(fy) / n
    sxx = sum((a - mx) ** 2 for a in fx)
    syy = sum((b - my) ** 2 for b in fy)
    sxy = sum((a - mx) * (b - my) for a, b in zip(fx, fy))
    dec = lambda f: Decimal(f.numerator) / Decimal(f.denominator)
    return float(dec(sxy) / (dec(sxx) * dec(syy)).sqrt())


def main():
    rng = random.Random(20261201)
    cases = []
    for offset in [1e6, 1e9, 1e12, 1e15]:
        for rho in [0.0, 0.6]:
            xs, ys = [], []
            for _ in range(500):
                a = rng.gauss(0, 1)
                b = rho * a + math.sqrt(1 - rho * rho) * rng.gauss(0, 1)
                xs.append(offset + a)
                ys.append(offset + b)
            cases.append((f"offset_{offset:g}_rho{rho}", xs, ys))
    with open(os.path.join(HERE, "offsets_pairs.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "x", "y"])
        for case, xs, ys in cases:
            for x, y in zip(xs, ys):
                w.writerow([case, repr(x), repr(y)])
    with open(os.path.join(HERE, "offsets_expected.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["case", "r_exact"])
        for case, xs, ys in cases:
            w.writerow([case, repr(exact_r(xs, ys))])


if __name__ == "__main__":
    main()
