"""Build a 莲湖-size area workbook and time its import (README "Onboarding an area").

1 工委, 6 街道, 131 社区, 364 网格, 3,000 楼栋, 18,000 单元, 100,000 住户, 50 部门, 200 共建单位,
2,800 岗位 by default. Run on a migrated, otherwise empty database (codes start with ``lh``);
``--again`` imports the same file a second time (everything unchanged).
"""

from __future__ import annotations

import random
import resource
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from governance.onboarding.workbook import COLUMNS, WORKBOOK_ORDER


class Command(BaseCommand):
    help = "Write a 莲湖-size area workbook and time import_area on it."

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, default=Path("test-artifacts/bench/lianhu-area.xlsx"))
        parser.add_argument("--households", type=int, default=100_000)
        parser.add_argument("--again", action="store_true", help="import the file a second time (idempotence)")

    def handle(self, *args, out, households, again, **options):
        out.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        write_workbook(out, households=households)
        self.stdout.write(f"workbook {out} written in {time.monotonic() - started:.1f} s "
                          f"({out.stat().st_size / 1e6:.1f} MB)")
        User = get_user_model()
        if not User.objects.filter(is_superuser=True).exists():
            User.objects.create_superuser("bench-admin", password=None)
        for run in range(2 if again else 1):
            started = time.monotonic()
            call_command("import_area", str(out), stdout=_Quiet(self.stdout), stderr=self.stderr)
            self.stdout.write(
                f"import {run + 1}: {time.monotonic() - started:.1f} s, "
                f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
            )


class _Quiet:
    """Keep the command's summary lines, drop the thousands of set-password links."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, line: str, *args, **kwargs) -> None:
        if not line.startswith("new account"):
            self.stream.write(line, *args, **kwargs)

    def flush(self) -> None:
        pass


def _spread(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def write_workbook(path: Path, *, households: int = 100_000, streets: int = 6, communities: int = 131,
                   grids: int = 364, buildings: int = 3000, stairwells_per_building: int = 6, departments: int = 50,
                   partners: int = 200, posts: int = 2800, seed: int = 18) -> None:
    from openpyxl import Workbook

    rng = random.Random(seed)
    workbook = Workbook(write_only=True)
    sheets = {name: workbook.create_sheet(name) for name in WORKBOOK_ORDER}
    for name, sheet in sheets.items():
        sheet.append([column.header for column in COLUMNS[name]])
    units = sheets["单位"]
    units.append(["lh", "莲湖工委", "工委", ""])
    street_codes = [f"lh-s{s}" for s in range(1, streets + 1)]
    for index, code in enumerate(street_codes, start=1):
        units.append([code, f"莲湖第{index}街道", "街道", "lh"])
    community_codes = []
    for street, count in zip(street_codes, _spread(communities, streets)):
        for c in range(1, count + 1):
            community_codes.append(f"{street}-c{c}")
            units.append([f"{street}-c{c}", f"{street}第{c}社区", "社区", street])
    grid_codes = []
    for community, count in zip(community_codes, _spread(grids, communities)):
        for g in range(1, count + 1):
            grid_codes.append(f"{community}-g{g}")
            units.append([f"{community}-g{g}", f"{community}第{g}网格", "网格", community])
    building_codes = []
    for grid, count in zip(grid_codes, _spread(buildings, grids)):
        for b in range(1, count + 1):
            building_codes.append(f"{grid}-b{b}")
            sheets["楼栋"].append([f"{grid}-b{b}", f"{grid} {b}号楼", grid, f"莲湖路{len(building_codes)}号"])
    stairwells = [(code, number) for code in building_codes for number in range(1, stairwells_per_building + 1)]
    for code, number in stairwells:
        sheets["单元"].append([code, number])
    tags = ["独居老人", "空巢老人", "残疾", "困难"]
    for (code, number), count in zip(stairwells, _spread(households, len(stairwells))):
        for h in range(count):
            room = f"{h // 2 + 1}0{h % 2 + 1}"
            tag = rng.choice(tags) if rng.random() < 0.05 else ""
            sheets["住户"].append([
                code, number, room, f"住户{rng.randint(1, 99999)}", f"1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}",
                round(rng.uniform(40, 140), 2), rng.randint(1, 5), tag,
            ])
    for d in range(1, departments + 1):
        sheets["部门"].append([f"莲湖区部门{d}", "lh"])
    kinds = ["物业", "业委会", "产权单位", "共建单位"]
    for p in range(partners):
        community = community_codes[p % len(community_codes)]
        sheets["共建单位"].append([f"{community}共建{p}", kinds[p % 4], community])
    placements = (
        [(code, "书记") for code in street_codes] + [(code, "主任") for code in street_codes]
        + [(code, "管理员") for code in street_codes]
        + [(code, role) for code in community_codes for role in ("书记", "主任", "社工")]
    )
    placements += [(grid_codes[i % len(grid_codes)], "网格员") for i in range(posts - len(placements))]
    for index, (unit, role) in enumerate(placements[:posts]):
        sheets["岗位"].append([f"lh-u{index}", f"员工{index}", f"139{index:08d}", unit, role])
    workbook.save(path)
