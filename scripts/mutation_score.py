"""Print the mutation score of the last `mutmut run` (`make mutate`), per module and overall.

Score = killed / (killed + survived + timeout): the share of planted bugs the suite catches.
Mutants no selected test reaches ("not checked") are listed apart: they are gaps in test
reach, not in assertions.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

LINE = re.compile(r"^\s*(?P<name>\S+?)__mutmut_\d+: (?P<status>.+)$")


def main() -> int:
    mutmut = Path(sys.executable).with_name("mutmut")
    done = subprocess.run(
        [str(mutmut), "results", "--all", "true"], capture_output=True, text=True, check=False
    )
    per_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in done.stdout.splitlines():
        match = LINE.match(line)
        if match is None:
            continue
        module = re.sub(r"\.x[ǁ_].*$", "", match["name"])
        per_module[module][match["status"].strip()] += 1
    if not per_module:
        print("no mutation results: run `make mutate` first", file=sys.stderr)
        return 1
    total: Counter[str] = Counter()
    header = ("module", "killed", "survived", "timeout", "unreached", "score")
    print("{:45} {:>7} {:>9} {:>8} {:>10} {:>6}".format(*header))
    for module, counts in sorted(per_module.items()):
        total.update(counts)
        print(_row(module, counts))
    print(_row("ALL", total))
    return 0


def _row(name: str, counts: Counter[str]) -> str:
    judged = counts["killed"] + counts["survived"] + counts["timeout"]
    score = f"{100 * counts['killed'] / judged:.0f}%" if judged else "-"
    return (
        f"{name:45} {counts['killed']:>7} {counts['survived']:>9} {counts['timeout']:>8} "
        f"{counts['not checked']:>10} {score:>6}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
