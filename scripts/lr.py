"""Print the network's base rates and implied likelihood ratios beside the published ones (`make lr`).

Both come from pgmpy's own exact variable elimination, with every case's fixed evidence (back pain) given.
"""

from __future__ import annotations

import sys

import pandas as pd

from model.inspect.base_rates import compare_base_rates
from model.inspect.lr import WITHIN, compare_published
from model.network.build import reference_eliminator


def main() -> int:
    ve = reference_eliminator()
    pd.set_option("display.width", 200, "display.max_colwidth", 60, "display.max_rows", 200)
    rates = compare_base_rates(ve)
    print("== Base rates: P(cause | back pain), nothing else known, against published shares of back pain")
    print(rates.to_string(index=False, float_format=lambda x: f"{x:.4%}" if x < 1 else f"{x:.2f}"))
    table = compare_published(ve)
    print(f"\n== Likelihood ratios: network against published (within a factor of {WITHIN:g} either way)")
    columns = ["cause", "flag", "published as", "source", "published LR+", "network LR+", "ratio", "within 2x"]
    print(table[columns].to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    required = table[table["required"]]
    print(
        f"\n{int(required['within 2x'].sum())} of {len(required)} required LRs within a factor of {WITHIN:g}; "
        f"{int(rates['within 2x'].sum())} of {len(rates)} base rates within a factor of {WITHIN:g}"
    )
    for _, row in table[~table["required"]].iterrows():
        print(f"not required: {row['cause']} / {row['flag']}: {row['note']}")
    return 0 if required["within 2x"].all() and rates["within 2x"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
