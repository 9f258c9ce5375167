"""Print how the network does on the vignette files in data/ (top-1, top-3, care range, under-triage)."""

from __future__ import annotations

import sys
from pathlib import Path

from model.care.rules import RANK
from model.inspect.vignettes import evaluate, read_vignettes, summary

DATA = Path(__file__).resolve().parent.parent / "data"
FILES = ("vignettes_public.csv", "vignettes_article.csv", "vignettes_guidelines.csv", "vignettes_review.csv")


def main(paths: list[str]) -> int:
    for path in paths or [str(DATA / f) for f in FILES]:
        results = evaluate(read_vignettes(path))
        s = summary(results)
        print(f"== {Path(path).name}: {s['vignettes']} vignettes")
        print(
            f"top-3 {s['top3']:.0%}  top-1 {s['top1']:.0%} (of {s['top1_named']} naming one)  "
            f"care in range {s['care_in_range']:.0%}  under-triaged {s['under_triaged']}  "
            f"over-triaged {s['over_triaged']} ({s['over_triaged_rate']:.1%})"
        )
        for r in results:
            misses = [
                name
                for name, bad in (
                    ("top-3", not r.top3_ok),
                    ("top-1", r.top1_ok is False),
                    ("care", not r.care_ok),
                    ("UNDER-TRIAGED", r.under_triaged),
                    ("over-triaged", RANK[r.care] > RANK[r.care_max]),
                )
                if bad
            ]
            if misses:
                print(
                    f"  {r.case_id}: missed {', '.join(misses)}; top-3 {', '.join(r.top3)}, care {r.care} "
                    f"(expected top-1 {'|'.join(r.expect_top1) or '-'}, top-3 {'|'.join(r.expect_top3)}, "
                    f"care {r.care_min}-{r.care_max})"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
