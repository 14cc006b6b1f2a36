"""The park file: the bundled demo park is complete and drawable, and a broken park file is refused
with the file, the path inside it, the line and the reason of every fault.

Each file under tests/data/bad_parks/ starts with one ``# expect: <path> line <n> <fragment>``
comment per problem the loader must report, in the order it reports them.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest

from parktwin.contract.quantities import DeviceKind, Medium
from parktwin.park.loader import ParkFileError, load_park, parse_park
from parktwin.park.model import BuildingUse, Park, ZoneType

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "parktwin" / "park" / "examples" / "demo-park.yaml"
BAD_PARKS = Path(__file__).resolve().parent / "data" / "bad_parks"
DOCS = ROOT / "docs" / "park-file.md"

EXPECT = re.compile(r"# expect: (?P<path>\(top level\)|\S+) line (?P<line>\d+) (?P<fragment>.+)")

Point = tuple[float, float]


@pytest.fixture(scope="module")
def demo() -> Park:
    return load_park(DEMO)


# --- the demo park -----------------------------------------------------------------------------


def test_demo_park_is_the_size_of_a_real_park(demo: Park) -> None:
    assert len(demo.devices) >= 150
    assert len(demo.enterprises) >= 10
    assert demo.park.timezone == "Asia/Shanghai"


def test_demo_park_has_every_device_kind_and_every_zone_type(demo: Park) -> None:
    assert {d.kind for d in demo.devices} == set(DeviceKind)
    assert {z.type for z in demo.zones} == set(ZoneType)


def test_demo_factories_run_on_one_two_and_three_shifts(demo: Park) -> None:
    factories = [b for b in demo.buildings if b.use is BuildingUse.FACTORY]
    assert {b.shifts for b in factories} == {1, 2, 3}


def test_most_demo_enterprises_are_above_the_size_threshold_but_not_all(demo: Park) -> None:
    above = Counter(e.above_size_threshold for e in demo.enterprises)
    assert above[True] > above[False] > 0
    for enterprise in demo.enterprises:
        assert enterprise.buildings, enterprise.id
        assert enterprise.employees > 0, enterprise.id


def test_demo_talent_apartments_are_residential_buildings_in_a_talent_housing_zone(
    demo: Park,
) -> None:
    homes = [b for b in demo.buildings if b.use is BuildingUse.RESIDENTIAL]
    assert homes
    assert {demo.zones_by_id[b.zone].type for b in homes} == {ZoneType.TALENT_HOUSING}


def test_demo_devices_report_at_their_kinds_interval(demo: Park) -> None:
    expected = {
        Medium.ELECTRICITY: 60,
        Medium.EMISSIONS: 60,
        Medium.AIR: 120,
        Medium.OCCUPANCY: 300,
        Medium.WATER: 300,
        Medium.GAS: 300,
    }
    for device in demo.devices:
        if device.medium in expected:
            assert device.interval_s == expected[device.medium], device.id


def test_demo_energy_assets_have_their_ratings(demo: Park) -> None:
    by_kind: dict[DeviceKind, list] = {}
    for device in demo.devices:
        by_kind.setdefault(device.kind, []).append(device)
    pv_hosts = {demo.buildings_by_id[d.building].use for d in by_kind[DeviceKind.PV_INVERTER]}
    assert {BuildingUse.FACTORY, BuildingUse.PARKING} <= pv_hosts  # factory roofs, the carport
    assert {d.rated_power_kw for d in by_kind[DeviceKind.EV_CHARGER]} == {7, 60, 120}
    (battery,) = by_kind[DeviceKind.BATTERY]
    assert battery.capacity_kwh >= 2000
    assert battery.rated_power_kw is not None


def test_every_demo_stack_monitor_sits_on_a_building_that_burns_gas(demo: Park) -> None:
    burners = {d.building for d in demo.devices if d.kind is DeviceKind.GAS_METER}
    monitored = {d.building for d in demo.devices if d.kind is DeviceKind.STACK_MONITOR}
    assert len(monitored) >= 5
    assert monitored <= burners


def test_demo_parent_meters_are_one_level_deep(demo: Park) -> None:
    """A meter with a parent is never a parent's parent: totals add up without recursion."""
    children = [d for d in demo.devices if d.parent is not None]
    assert children
    for child in children:
        parent = demo.devices_by_id[child.parent]
        assert parent.parent is None, child.id
        if parent.kind is DeviceKind.SUB_METER:
            assert parent.building == child.building, child.id


# --- the demo park's site plan ------------------------------------------------------------------


def _on_boundary(point: Point, polygon: list[Point]) -> bool:
    x, y = point
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)
        if cross == 0 and min(x1, x2) <= x <= max(x1, x2) and min(y1, y2) <= y <= max(y1, y2):
            return True
    return False


def _inside(point: Point, polygon: list[Point]) -> bool:
    """Whether a point lies strictly inside a polygon (ray casting; the boundary is outside)."""
    if _on_boundary(point, polygon):
        return False
    x, y = point
    result = False
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


def _area(polygon: list[Point]) -> float:
    """Signed area (shoelace): positive when the corners run counter-clockwise."""
    pairs = zip(polygon, polygon[1:] + polygon[:1], strict=True)
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairs) / 2


def _overlap_area(subject: list[Point], clip: list[Point]) -> float:
    """Area shared by a polygon and a convex polygon (Sutherland-Hodgman clipping)."""
    sign = 1 if _area(clip) > 0 else -1

    def left_of(p: Point, a: Point, b: Point) -> float:
        return sign * ((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]))

    edges = list(zip(clip, clip[1:] + clip[:1], strict=True))
    turns = [left_of(c, a, b) for (a, b), c in zip(edges, clip[2:] + clip[:2], strict=True)]
    assert all(t >= 0 for t in turns), f"outline {clip} is not convex"
    result = list(subject)
    for a, b in edges:
        points, result = result, []
        for p, q in zip(points, points[1:] + points[:1], strict=True):
            dp, dq = left_of(p, a, b), left_of(q, a, b)
            if dp >= 0:
                result.append(p)
            if dp * dq < 0:
                t = dp / (dp - dq)
                result.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
        if not result:
            return 0.0
    return abs(_area(result))


def _overlap(a: list[Point], b: list[Point]) -> bool:
    """Whether two outlines share area; sharing an edge or a corner is no overlap."""
    return _overlap_area(a, b) > 1e-6


def test_overlap_check_tells_touching_from_overlapping() -> None:
    square = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]
    neighbour = [(10.0, 0.0), (20.0, 0.0), (20.0, 10.0), (10.0, 10.0)]
    shifted = [(5.0, 5.0), (15.0, 5.0), (15.0, 15.0), (5.0, 15.0)]
    cross = [(4.0, -5.0), (6.0, -5.0), (6.0, 15.0), (4.0, 15.0)]
    beside = [(9.0, 0.0), (20.0, 0.0), (20.0, 10.0), (9.0, 10.0)]  # 1 m into the square
    assert not _overlap(square, neighbour)
    assert _overlap(square, shifted)
    assert _overlap(square, cross)
    assert _overlap(square, list(square))
    assert _overlap(square, beside)
    assert _overlap(beside[::-1], square[::-1])


def test_every_demo_zone_and_building_has_an_outline(demo: Park) -> None:
    for item in [*demo.zones, *demo.buildings]:
        assert item.outline_m is not None and len(item.outline_m) >= 3, item.id


def test_demo_buildings_stand_inside_their_zone(demo: Park) -> None:
    for building in demo.buildings:
        zone = demo.zones_by_id[building.zone].outline_m
        assert zone is not None and building.outline_m is not None
        for corner in building.outline_m:
            assert _inside(corner, zone) or _on_boundary(corner, zone), (building.id, corner)


@pytest.mark.parametrize("section", ["zones", "buildings"])
def test_demo_outlines_do_not_overlap(demo: Park, section: str) -> None:
    items = getattr(demo, section)
    overlapping = [
        (a.id, b.id) for a, b in combinations(items, 2) if _overlap(a.outline_m, b.outline_m)
    ]
    assert overlapping == []


# --- broken park files --------------------------------------------------------------------------


def _expectations(file: Path) -> list[tuple[str, int, str]]:
    found = []
    for line in file.read_text(encoding="utf-8").splitlines():
        match = EXPECT.fullmatch(line)
        if match is None:
            break
        found.append((match["path"], int(match["line"]), match["fragment"]))
    return found


BAD_FILES = sorted(BAD_PARKS.glob("*.yaml"))


def test_bad_park_corpus_covers_the_faults_a_park_file_can_have() -> None:
    required = {
        "yaml-syntax",
        "tab-indentation",
        "wrong-type",
        "unknown-key",
        "missing-field",
        "negative-floor-area",
        "unknown-timezone",
        "id-space",
        "id-slash",
        "id-plus",
        "id-hash",
        "duplicate-device-id",
        "duplicate-key",
        "unknown-building",
        "zone-contradiction",
        "unknown-enterprise",
        "pv-without-capacity",
        "parent-of-another-medium",
        "no-grid-main-meter",
        "empty",
        "top-level-list",
    }
    assert required <= {f.stem for f in BAD_FILES}


@pytest.mark.parametrize("file", BAD_FILES, ids=[f.stem for f in BAD_FILES])
def test_bad_park_is_refused_naming_file_path_and_line_of_every_fault(file: Path) -> None:
    expected = _expectations(file)
    assert expected, f"{file.name} starts with no '# expect:' line"
    with pytest.raises(ParkFileError) as caught:
        load_park(file)
    problems = caught.value.problems
    assert [(p.path or "(top level)", p.line) for p in problems] == [
        (path, line) for path, line, _ in expected
    ]
    for problem, (_, line, fragment) in zip(problems, expected, strict=True):
        assert problem.file == str(file)
        assert fragment in problem.message
        assert f"{file}:{line}: " in str(caught.value)


def test_a_file_without_a_single_byte_is_empty_at_line_one() -> None:
    with pytest.raises(ParkFileError) as caught:
        parse_park("", "nothing.yaml")
    (problem,) = caught.value.problems
    assert (problem.file, problem.path, problem.line) == ("nothing.yaml", "", 1)
    assert problem.message == "the file is empty"


def test_the_minimal_example_in_the_docs_loads() -> None:
    match = re.search(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None, "docs/park-file.md has no yaml example"
    park = parse_park(match[1], "docs/park-file.md")
    assert park.devices
