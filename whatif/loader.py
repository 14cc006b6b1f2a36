"""Load scenario files (YAML) and check them against the park: every error names file, line and
field, as the park file's loader does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path as FsPath

from pydantic import ValidationError

from parktwin.contract.quantities import DeviceKind
from parktwin.park.loader import ParkFileError, Problem, parse_yaml_mapping, problem_at
from parktwin.park.model import Park
from parktwin.park.references import Path
from whatif.scenario import CHANGE_KINDS, AddPv, Efficiency, ElectrifyHeat, NewTenant, Scenario


class ScenarioError(Exception):
    """A scenario that cannot be run; ``problems`` names file, line and field of each."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class ScenarioFile:
    """A valid scenario with where it came from, so that later errors can name its lines."""

    scenario: Scenario
    file: str
    lines: dict[Path, int]

    def problem(self, path: Path, message: str) -> Problem:
        """A problem at ``path`` of this file, with its line."""
        return problem_at(self.file, path, self.lines, message)


def park_problems(loaded: ScenarioFile, park: Park) -> list[Problem]:
    """References to buildings and enterprises the park lacks, and measured PV without PV."""
    problems = []
    buildings, enterprises = park.buildings_by_id, park.enterprises_by_id
    pv_kwp = sum(d.capacity_kwp or 0.0 for d in park.devices if d.kind is DeviceKind.PV_INVERTER)
    for i, change in enumerate(loaded.scenario.changes):
        at: Path = ("changes", i)
        named: list[tuple[str, str | None]] = []
        if isinstance(change, AddPv | ElectrifyHeat | Efficiency):
            named.append(("building", change.building))
        if isinstance(change, NewTenant):
            named.append(("like", change.like))
        for field, building in named:
            if building is not None and building not in buildings:
                message = f"unknown building {building!r} (the park has {len(buildings)})"
                problems.append(loaded.problem((*at, field), message))
        if (
            isinstance(change, Efficiency)
            and change.enterprise is not None
            and change.enterprise not in enterprises
        ):
            message = f"unknown enterprise {change.enterprise!r}"
            problems.append(loaded.problem((*at, "enterprise"), message))
        if isinstance(change, AddPv) and change.profile == "measured" and pv_kwp <= 0:
            message = "profile 'measured' needs PV inverters with capacity_kwp in the park file"
            problems.append(loaded.problem((*at, "profile"), message))
    return problems


def schema_problems(exc: ValidationError, file: str, lines: dict[Path, int]) -> list[Problem]:
    """Schema errors with their lines; pydantic's tag of the change kind is left out of the
    path (``changes[0].kwp``, not ``changes[0].add_pv.kwp``), which is where the field is."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if len(loc) > 2 and loc[0] == "changes" and loc[2] in CHANGE_KINDS:
            loc = (*loc[:2], *loc[3:])
        problems.append(problem_at(file, loc, lines, error["msg"]))
    return problems


def parse_scenario(text: str, file: str, park: Park) -> ScenarioFile:
    """Validate a scenario's text against its schema and the park; raise ScenarioError."""
    try:
        data, lines, problems = parse_yaml_mapping(text, file)
    except ParkFileError as exc:
        raise ScenarioError(exc.problems) from None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems + schema_problems(exc, file, lines)) from None
    loaded = ScenarioFile(scenario, file, lines)
    problems += park_problems(loaded, park)
    if problems:
        raise ScenarioError(problems)
    return loaded


def load_scenario(path: str | FsPath, park: Park) -> ScenarioFile:
    """Read and validate a scenario file."""
    file = FsPath(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(str(file), "", None, f"cannot read: {exc}")]) from None
    return parse_scenario(text, str(file), park)
