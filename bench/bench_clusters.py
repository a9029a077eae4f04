"""Benchmark: choosing k and refitting clusters on synthetic RFM customers.

Prints wall times (median of ``--repeats`` runs, and the fastest) for
  * ``rfm.clustering.sweep.sweep_k`` over k=2..10 with every metric, on 6,000 and 100,000 customers
    (targets: <= 1 s and <= 5 s), and where the 6,000-customer sweep spends its time;
  * one K-Means refit at k=4 on 6,000 customers, the "slider moves" case (target: <= 200 ms),
    with the default threads and with one thread;
  * silhouette for the nine ks: scikit-learn's ``silhouette_score`` once per k, the sweep's shared-distance
    version exact, and on stratified samples, with the error the samples make;
  * the Clusters page's "Compare algorithms" (``rfm.clustering.fit.compare_clusters``, default settings, k=4) per
    algorithm and in total (target: <= 5 s), and each algorithm's fit alone (``fit_clusters``), on the demo
    workbook and on CDNOW's 23,502 customers (the master file in the lifetimes wheel; skipped when absent),
    with the clusters and noise share each fit finds.

Customers are drawn like real RFM tables: a few groups (loyal, regular, new, lapsed), uniform recency within
each group's window, geometric frequency, log-normal order values (monetary = frequency × order value).
Scripts print; nothing is asserted.

    python bench/bench_clusters.py
    python bench/bench_clusters.py --repeats 5
    python bench/bench_clusters.py --compare-only      # the algorithm comparison and fits only (about a minute)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devkit.data import cdnow_master, synthetic_customers  # noqa: E402
from rfm.clustering.features import feature_frame, make_scaler  # noqa: E402


def scaled(table: pd.DataFrame) -> np.ndarray:
    return make_scaler("standard").fit_transform(feature_frame(table))


def timed(function, repeats: int) -> tuple[float, float, object]:
    """Median and fastest wall time in seconds, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), result


def row(label: str, median: float, fastest: float, target: str = "", note: str = "") -> None:
    print(f"{label:<58} {median * 1000:>9.0f} {fastest * 1000:>9.0f}  {target:<9} {note}")


def segmented_customers(path) -> pd.DataFrame:
    """A file's customers as the Clusters page gets them: read, cleaned, RFM table, scores and segments."""
    from rfm.cleaning.analyse import analyse_file
    from rfm.scoring.classic import segment_customers

    return segment_customers(analyse_file(path, with_orders=False).customers).customers


def comparison_figures(repeats: int, k: int = 4) -> None:
    """The algorithm comparison and each fit, on the demo and on CDNOW (default ClusterSettings)."""
    from rfm.clustering.fit import ClusterSettings, compare_clusters, fit_clusters
    from rfm.demo import DEMO_PATH
    from rfm.schema import ALGORITHMS

    files = {"demo": DEMO_PATH, "CDNOW": cdnow_master()}
    settings = ClusterSettings()
    print(f"\n{'compare algorithms / fit (k=' + str(k) + ', default settings)':<58} {'median':>9} {'fastest':>9}  {'target':<9} note")
    print("-" * 110)
    for label, path in files.items():
        if path is None:
            print(f"{label}: skipped (the lifetimes package, which ships the CDNOW data, is not installed)")
            continue
        customers = segmented_customers(path)
        fit_clusters(customers.iloc[:300], settings, 2)  # warm-up: imports
        per_algorithm: dict[str, list[float]] = {algorithm: [] for algorithm in ALGORITHMS}
        totals, table = [], None
        for _ in range(repeats):
            marks = [time.perf_counter()]

            def progress(done, total, algorithm):
                marks.append(time.perf_counter())
                per_algorithm[algorithm].append(marks[-1] - marks[-2])

            table = compare_clusters(customers, settings, k, progress=progress)
            totals.append(marks[-1] - marks[0])
        row(f"{label} ({len(customers):,}): compare algorithms, total", statistics.median(totals), min(totals), "<= 5 s")
        for algorithm, times in per_algorithm.items():
            found = table.loc[algorithm]
            note = f"{int(found['clusters'])} clusters, noise {found['noise_share']:.1%}"
            row(f"  {ALGORITHMS[algorithm]}: fit, name, score", statistics.median(times), min(times), "", note)
        for algorithm in ALGORITHMS:
            median, fastest, result = timed(lambda: fit_clusters(customers, settings, k, algorithm), repeats)
            sample = result.estimator.sample_indices_
            note = f"estimator {result.seconds * 1000:.0f} ms; {result.estimator.n_clusters_} clusters"
            note += "" if sample is None else f", fitted on {len(sample):,}"
            row(f"{label}: fit_clusters {ALGORITHMS[algorithm]}", median, fastest, "", note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compare-only", action="store_true", help="only the algorithm comparison and the fits")
    options = parser.parse_args()
    repeats = options.repeats
    if options.compare_only:
        print(f"{os.cpu_count()} CPUs; {repeats} runs each, times in ms")
        print(f"load average at start (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
        comparison_figures(repeats)
        print(f"\nload average at end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
        return

    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_info, threadpool_limits

    from rfm.clustering.estimator import RFMClusterer, stratified_sample_indices
    from rfm.clustering.sweep import (
        EXACT_SILHOUETTE_MAX,
        STABILITY_SAMPLE,
        _ch_db_scores,
        _fit_all,
        _metric_sample,
        _stability,
        silhouette_scores,
        sweep_k,
    )

    small_table, large_table = synthetic_customers(6_000), synthetic_customers(100_000)
    small, large = scaled(small_table), scaled(large_table)
    sweep_k(small[:300], k_max=4)  # warm-up: imports and thread pools
    threads = {info["user_api"]: info["num_threads"] for info in threadpool_info()}
    print(f"{os.cpu_count()} CPUs, threads available {threads}; {repeats} runs each, times in ms")
    # Other processes on the machine slow every figure: say how busy it was.
    print(f"load average at start (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in os.getloadavg())}\n")
    print(f"{'case':<58} {'median':>9} {'fastest':>9}  {'target':<9} note")
    print("-" * 110)

    for table, X, target in ((small_table, small, "<= 1 s"), (large_table, large, "<= 5 s")):
        median, fastest, result = timed(lambda: sweep_k(X), repeats)
        note = f"{result.method}, k={result.recommended_k}, metrics on {result.silhouette_sample:,}"
        row(f"sweep_k k=2..10, all metrics, {len(table):,} customers", median, fastest, target, note)

    # Where the 6,000-customer sweep goes (one thread, as inside sweep_k), with the default settings.
    ks = tuple(range(2, 11))
    with threadpool_limits(limits=1):
        labels, _ = _fit_all(small, ks, "KMeans", 10, 42, [])
        sample = _metric_sample(labels, EXACT_SILHOUETTE_MAX, 42)
        points, sampled = small[sample], [lab[sample] for lab in labels]
        parts = {
            "  fits: KMeans n_init=10, k=2..10": lambda: _fit_all(small, ks, "KMeans", 10, 42, []),
            f"  silhouette, 9 ks, on {len(sample):,} (shared distances)": lambda: silhouette_scores(points, sampled),
            f"  Calinski-Harabasz and Davies-Bouldin, 9 ks, on {len(sample):,}": lambda: _ch_db_scores(points, sampled),
            f"  stability: 5 seeds × 9 ks on {STABILITY_SAMPLE:,}": (
                lambda: _stability(small, ks, 5, STABILITY_SAMPLE, 42)
            ),
            "  (stability on 5,000 instead)": lambda: _stability(small, ks, 5, 5_000, 42),
        }
        for label, function in parts.items():
            median, fastest, _ = timed(function, repeats)
            row(label, median, fastest)

    for limit, label in ((None, "default threads"), (1, "1 thread")):
        with threadpool_limits(limits=limit):
            median, fastest, _ = timed(lambda: RFMClusterer(n_clusters=4).fit(small_table), repeats)
            row(f"refit RFMClusterer k=4 (log, scale, KMeans), 6,000, {label}", median, fastest, "<= 200 ms")
            median, fastest, _ = timed(lambda: KMeans(4, n_init=10, random_state=42).fit(small), repeats)
            row(f"  of which KMeans k=4 n_init=10 alone, {label}", median, fastest)
            median, fastest, _ = timed(lambda: _fit_all(small, ks, "KMeans", 10, 42, []), repeats)
            row(f"KMeans k=2..10 n_init=10, 6,000, {label}", median, fastest)

    # Silhouette: exact versus sampled.
    median, fastest, exact_sklearn = timed(lambda: [silhouette_score(small, lab) for lab in labels], 1)
    row("silhouette 9 ks, 6,000 exact, sklearn once per k", median, fastest)
    median, fastest, exact = timed(lambda: silhouette_scores(small, labels), repeats)
    gap = max(abs(a - b) for a, b in zip(exact, exact_sklearn))
    row("silhouette 9 ks, 6,000 exact, shared distances", median, fastest, "", f"max |diff| vs sklearn {gap:.1e}")
    for size in (1_000, EXACT_SILHOUETTE_MAX):
        sample = stratified_sample_indices(labels[-1], size, 0)
        points, sampled_labels = small[sample], [lab[sample] for lab in labels]
        median, fastest, sampled = timed(lambda: silhouette_scores(points, sampled_labels), repeats)
        error = max(abs(a - b) for a, b in zip(sampled, exact))
        row(f"silhouette 9 ks, stratified sample {size:,} of 6,000", median, fastest, "", f"max |error| {error:.3f}")
    with threadpool_limits(limits=1):
        large_labels, _ = _fit_all(large, ks, "MiniBatchKMeans", 10, 42, [])
    for size in (EXACT_SILHOUETTE_MAX, 10_000):
        sample = stratified_sample_indices(large_labels[-1], size, 0)
        points, sampled_labels = large[sample], [lab[sample] for lab in large_labels]
        median, fastest, _ = timed(lambda: silhouette_scores(points, sampled_labels), repeats)
        row(f"silhouette 9 ks, stratified sample {size:,} of 100,000", median, fastest)
    with threadpool_limits(limits=1):
        median, fastest, result = timed(
            lambda: sweep_k(small, exact_silhouette_max=10_000, stability_sample=5_000), repeats
        )
    row("sweep_k 6,000 with exact silhouette, stability on 5,000", median, fastest, "", f"k={result.recommended_k}")
    comparison_figures(repeats)
    print(f"\nload average at end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
