"""Compile the fused Lloyd op unless this source is already built (run by `make install`).

    python -m mlkit.unsupervised.build_lloyd_pass [--status]

A missing compiler or a failed build is reported but not fatal: KMeans then uses the
XLA step, which gives the same results more slowly.
"""

import argparse
import sys

from mlkit.unsupervised.lloyd_pass import build, find_compiler, library_path


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build the fused k-means Lloyd op.")
    parser.add_argument("--status", action="store_true", help="only say whether it is built")
    args = parser.parse_args(argv)
    path = library_path()
    if path.exists():
        print(f"lloyd_pass: up to date ({path.name})")
        return 0
    if args.status:
        print("lloyd_pass: not built")
        return 0
    if find_compiler() is None:
        print("lloyd_pass: no C++ compiler found; KMeans will use the XLA step.", file=sys.stderr)
        return 0
    try:
        print(f"lloyd_pass: built {build().name}")
    except RuntimeError as error:
        print(f"lloyd_pass: {error}; KMeans will use the XLA step.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
