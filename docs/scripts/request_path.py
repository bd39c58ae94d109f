"""Draw docs/request-path.svg: the way a request travels (run: python docs/scripts/request_path.py).

Plain SVG from the standard library, so the picture needs nothing to rebuild and the site
needs nothing from the network to show it.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

#: (stage, module, what it does); pure stages are drawn white, I/O ones shaded.
STAGES = [
    ("query", "models.py", "frozen attrs value, checked at birth", True),
    ("endpoint row", "endpoints.py", "path, body, answer reader, records, page type", True),
    ("page plan", "pagination.py", "page_count known: ask at once; else ramp, stop at short",
     True),
    ("admission", "cache, flights, admission", "cache, shared flight, lane; refuse past deadline",
     True),
    ("token", "auth/", "a valid token in hand BEFORE the slot", False),
    ("limiter slot", "ratelimit.py", "paced under the cap; shared pause on rate limits", False),
    ("transport", "transport.py", "bytes out; (status, headers, bytes) or a typed error",
     False),
    ("envelope", "envelopes.py", "either envelope by shape; any status checked", True),
    ("retry decision", "retry.py", "(error, attempt) -> wait N s, or give up", True),
    ("records", "converters.py + decoding.py", "one cattrs path; chunks that yield",
     True),
    ("stream", "streams.py / pagination.py", "pages in order per query; pull() merges many", True),
]

WIDTH, ROW, GAP, LEFT = 760, 46, 14, 20


def svg() -> str:
    height = len(STAGES) * (ROW + GAP) + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'font-family="sans-serif" font-size="13">',
             '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="4" refY="4" '
             'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>']
    for i, (stage, module, what, pure) in enumerate(STAGES):
        y = 10 + i * (ROW + GAP)
        fill = "#ffffff" if pure else "#dde6ee"
        parts.append(f'<rect x="{LEFT}" y="{y}" width="{WIDTH - 2 * LEFT}" height="{ROW}" '
                     f'rx="6" fill="{fill}" stroke="#456"/>')
        parts.append(f'<text x="{LEFT + 12}" y="{y + 19}" font-weight="bold">'
                     f'{escape(stage)}</text>')
        parts.append(f'<text x="{LEFT + 12}" y="{y + 37}" fill="#345">{escape(module)}</text>')
        parts.append(f'<text x="{LEFT + 250}" y="{y + 28}">{escape(what)}</text>')
        if i:
            parts.append(f'<line x1="{WIDTH // 2}" y1="{y - GAP}" x2="{WIDTH // 2}" '
                         f'y2="{y - 2}" stroke="#555" marker-end="url(#a)"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    Path(__file__).resolve().parents[1].joinpath("request-path.svg").write_text(svg())
