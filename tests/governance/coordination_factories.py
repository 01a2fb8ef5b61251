"""Builders for the coordination tests: the 41号楼 electorate, departments, staff."""

from __future__ import annotations

from decimal import Decimal

from communities.models import Building, Household, Stairwell


def households(building: Building, *, units: int = 6, floors: int = 6, per_floor: int = 2, area=None) -> list[Household]:
    """``units`` × ``floors`` × ``per_floor`` households; ``area(unit, floor, door)`` gives each one's m²."""
    area = area or (lambda unit, floor, door: Decimal("60.00"))
    stairwells = [Stairwell.objects.create(building=building, number=n) for n in range(1, units + 1)]
    rows = [
        Household(stairwell=stairwell, floor=floor, room=f"{floor}0{door}", area=Decimal(area(stairwell.number, floor, door)))
        for stairwell in stairwells
        for floor in range(1, floors + 1)
        for door in range(1, per_floor + 1)
    ]
    return Household.objects.bulk_create(rows)
