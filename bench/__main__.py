"""`python -m bench --size large --seed 1`: create the bench database if missing, generate (or
reuse) its data, run every figure and print one table (bench/results/latest.md and .json)."""

import argparse
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--size", default=os.environ.get("BENCH_SIZE", "large"))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("BENCH_SEED", "1")))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "5")))
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get("BENCH_TIMEOUT", "60")),
        help="Seconds one request or task may take before its figure reads '> N s (timed out)'.",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=float(os.environ.get("BENCH_SCALE", "1")),
        help="Shrink the fixed workloads (10,000 e-mails, 1,000 courses …) for a smoke run.",
    )
    parser.add_argument("--only", default="", help="Comma-separated figure keys (debugging).")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    from bench.harness import database_prepare, run, write_results

    database_prepare(size=args.size, seed=args.seed)
    results = run(
        size=args.size,
        seed=args.seed,
        runs=args.runs,
        timeout=args.timeout,
        scale=args.scale,
        only={key for key in args.only.split(",") if key},
    )
    write_results(results, size=args.size, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
