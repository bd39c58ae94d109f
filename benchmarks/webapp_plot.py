"""The web-app benchmark's figure: views per second (A), view latency over time (B), API
requests by lane (C)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .webapp import PULL_PAGE_SIZE, PULL_PAGES, VIEW_PAGE_SIZE

if TYPE_CHECKING:
    from .bench_webapp import Run


def plot(runs: dict[str, Run], path: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    a_old, a_new = runs["A-old"], runs["A-new"]
    bars = [a_old.per_second, a_new.per_second,
            len(a_old.in_window()) / a_old.span, len(a_new.in_window()) / a_new.span]
    ax.bar(["views/s\nold", "views/s\nnew", "API req/s\nold", "API req/s\nnew"], bars,
           color=["#999999", "#1f77b4", "#cccccc", "#9ecae1"])
    for x, y in enumerate(bars):
        ax.text(x, y, f"{y:.1f}", ha="center", va="bottom")
    ax.set_title("A: 200 viewers, 20 pages (Zipf)")
    ax = axes[1]
    for key, colour, label in (("B-old", "#999999", "old: every view"),):
        r = runs[key]
        ax.scatter([o for _, _, o in r.views], [rt for rt, _, _ in r.views], s=3,
                   color=colour, label=label)
    r = runs["B-new"]
    for code, colour in ((200, "#1f77b4"), (503, "#ff7f0e")):
        pts = [(o, rt) for rt, st, o in r.views if st == code]
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=3, color=colour,
                   label=f"new: HTTP {code}")
    ax.axhline(2.0, color="red", lw=0.8, ls="--", label="deadline 2 s")
    ax.set_xlabel("seconds into the load")
    ax.set_ylabel("view latency, s")
    ax.set_title("B: 200 viewers, 2,000 pages, 2 s deadline")
    ax.legend(markerscale=4, fontsize=8)
    ax = axes[2]
    for key, style in (("C-old", ":"), ("C-new", "-")):
        r = runs[key]
        for size, colour, lane in ((VIEW_PAGE_SIZE, "#1f77b4", "views"),
                                   (PULL_PAGE_SIZE, "#2ca02c", "pull")):
            times = sorted(e.monotonic - r.started for e in r.log if e.page_size == size)
            ax.plot(times, range(1, len(times) + 1), style, color=colour,
                    label=f"{key[2:]}: {lane}")
    ax.axvline(runs["C-new"].seconds, color="grey", lw=0.8, ls="--", label="views stop")
    ax.set_xlabel("seconds since the pull started")
    ax.set_ylabel("API requests (cumulative)")
    ax.set_title(f"C: the same viewers and a {PULL_PAGES}-page pull")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
