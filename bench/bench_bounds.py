"""Cost of a cell binding 100,000 new names while a client watches previews (issue 11 item 12).

Two beakerlike kernels side by side: one with a watcher, one without. Each round runs the same cell in both
(``for i in range(100_000): globals()[f"r{round}_{i}"] = i``, new names every round); the difference is what the
bounded preview message (at most 2,000 items, ``more: true``) costs. Target: ≤ 0.3 s.

    python -m bench.bench_bounds [--rounds 5] [--names 100000]
"""

from __future__ import annotations

import argparse

from ._util import RawClient, beakerlike_kernel, median


def cell(client: RawClient, code: str) -> float:
    """Send one cell; seconds to its reply and idle."""
    ex = client.roundtrip("execute_request", {"code": code, "silent": False, "store_history": False,
                                              "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
                          timeout=300)
    return ex.latency


def main(argv: list[str] | None = None) -> None:
    """Print per-round times and the median difference."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--names", type=int, default=100_000)
    args = p.parse_args(argv)
    with beakerlike_kernel() as a, beakerlike_kernel() as b, RawClient(a.conn) as watched, \
            RawClient(b.conn) as idle:
        watched.roundtrip("preview_watch_request", {"key": "bench"})
        diffs = []
        for r in range(args.rounds):
            code = f"for _i in range({args.names}): globals()[f'r{r}_{{_i}}'] = _i"
            t_idle = cell(idle, code)
            t_watched = cell(watched, code)
            diffs.append(t_watched - t_idle)
            print(f"  round {r}: watched {t_watched * 1000:7.1f} ms, nobody watching {t_idle * 1000:7.1f} ms, "
                  f"difference {(t_watched - t_idle) * 1000:7.1f} ms", flush=True)
        print(f"cell binding {args.names:,} new names: preview cost (watched - unwatched) median "
              f"{median(diffs) * 1000:.0f} ms (target <= 300 ms)")


if __name__ == "__main__":
    main()
