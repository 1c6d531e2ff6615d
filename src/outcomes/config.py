"""Load and validate configuration: the project settings and one file per cohort.

Both files are YAML, checked against JSON schemas shipped with the package
(``outcomes/schemas/*.schema.yaml``), so the workflow, the command line and the Python API
validate in one way. Defaults come from the schemas. Cross-field rules (a source's wave must be
one of the cohort's waves, an instrument must exist...) are checked here, and every problem
names the file and the key.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from outcomes.errors import ConfigError
from outcomes.instruments.registry import (
    Instrument,
    get_instrument,
    instrument_from_dict,
    list_instruments,
)
from outcomes.options import (
    DEFAULT_CALIPER,
    DEFAULT_ESTIMAND,
    DEFAULT_METHODS,
    DEFAULT_SE,
    PROPENSITY_METHODS,
)

DEMO_KEY = "outcomes-demo-key: public, for simulated data only"


@dataclass(frozen=True)
class Settings:
    """Project settings (``config/config.yaml``)."""

    cohorts: tuple[str, ...]
    cohort_dir: str = "config/cohorts"
    min_cell_size: int = 10
    alpha: float = 0.05
    multiplicity: str = "bh"
    multiplicity_family: str = "domain"
    min_alpha: float = 0.7
    path: str | None = None
    data_roots: tuple[str, ...] = ()

    def cohort_path(self, name: str) -> Path:
        return Path(self.cohort_dir) / f"{name}.yaml"


@dataclass(frozen=True)
class Source:
    """One export file and how to read it (see the ``sources`` keys in config/README.md)."""

    path: str
    wave: str | None = None
    wave_from: dict | None = None
    format: str = "auto"
    encoding: str | None = None
    dictionary: str | None = None
    sheet: str | None = None
    rename: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def waves(self) -> tuple[str, ...]:
        """The waves this source holds rows of."""
        if self.wave is not None:
            return (self.wave,)
        return tuple(dict.fromkeys(self.wave_from["values"].values()))


@dataclass(frozen=True)
class Outcome:
    """One outcome: an instrument and the export columns of its items, in item order.

    ``columns`` holds the column names when the config lists them (or gives a ``{a..b}``
    pattern); ``selector`` holds a ``{regex: ...}``, ``{text: ...}`` or ``{import_id: ...}``
    rule that is resolved against each export's header (``outcomes.ingest.codebook``).
    """

    name: str
    instrument: Instrument
    columns: tuple[str, ...] | None
    label: str
    domain: str
    selector: dict | None = None
    grade_format: str = "points"
    letter_points: dict[str, float] | None = None
    case_at_least: float | None = None
    case_label: str | None = None

    @property
    def n_items(self) -> int:
        return 1 if self.instrument.kind == "numeric" else len(self.instrument.items)

    @property
    def item_names(self) -> tuple[str, ...]:
        """Column names of the items in the responses table (``{outcome}_{item}``)."""
        if self.instrument.kind == "numeric":
            return (self.name,)
        return tuple(f"{self.name}_{item}" for item in self.instrument.items)


@dataclass(frozen=True)
class Plan:
    """The analysis plan (``plan:`` in a cohort file; every key in config/README.md).

    ``estimate_waves`` are the waves that get estimates: every wave after the assignment wave,
    and the assignment wave itself when there is no pre-program baseline (its scores are then
    already outcomes) or when it is the only wave (a cross-sectional comparison).
    """

    assignment_wave: str
    baseline_wave: str | None
    primary_wave: str
    estimate_waves: tuple[str, ...]
    estimand: str = DEFAULT_ESTIMAND
    methods: tuple[str, ...] = DEFAULT_METHODS
    covariates: tuple[str, ...] = ()
    se: str = DEFAULT_SE
    propensity: dict = field(default_factory=dict)
    design: str = "self_selected"
    group_from: str = "assignment"

    @property
    def headline_method(self) -> str:
        """The first adjusted method of the plan (the report's headline), else unadjusted."""
        return next((m for m in self.methods if m != "unadjusted"), "unadjusted")

    @property
    def caliper(self) -> float | None:
        return self.propensity.get("caliper", DEFAULT_CALIPER)


@dataclass(frozen=True)
class Cohort:
    """A validated cohort config. See ``config/README.md`` for every key."""

    name: str
    title: str
    program: str
    waves: tuple[str, ...]
    sources: tuple[Source, ...]
    respondent_id: str
    pseudonym_key: dict[str, Any]
    group_column: str
    participant_values: tuple[str, ...]
    comparison_values: tuple[str, ...]
    cluster: str | None
    covariates: dict[str, dict[str, str]]
    missing_values: tuple[str, ...]
    exclude: dict[str, Any]
    outcomes: tuple[Outcome, ...]
    plan: Plan
    path: str | None = None
    raw: dict = field(default_factory=dict, repr=False)
    min_linked_share: float = 0.2

    def sources_for(self, wave: str) -> tuple[Source, ...]:
        return tuple(s for s in self.sources if wave in s.waves)

    def group_required(self, wave: str) -> bool:
        """Whether an export of ``wave`` must record each student's group: at the assignment
        wave, and at every wave when groups are taken from each wave. Otherwise (intention
        to treat) the group comes from the assignment wave, and a later export may leave it
        blank or lack the column."""
        return self.plan.group_from == "each_wave" or wave == self.plan.assignment_wave

    def outcome(self, name: str) -> Outcome:
        return next(o for o in self.outcomes if o.name == name)

    @property
    def config_hash(self) -> str:
        """SHA-256 of the config's content (key order independent), for provenance."""
        text = json.dumps(self.raw, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


@cache
def _schema(name: str) -> dict:
    text = resources.files("outcomes").joinpath("schemas", f"{name}.schema.yaml").read_text()
    return yaml.safe_load(text)


def _validate(data: Any, schema_name: str, path: str | Path | None) -> dict:
    """Validate against a schema, fill in defaults, and raise ConfigError on the first problem."""
    schema = _schema(schema_name)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        expected = error.schema.get("description") or json.dumps(error.schema)[:200]
        raise ConfigError(
            f"invalid config: {error.message}",
            file=path,
            column=key,
            expected=expected,
            found=json.dumps(error.instance, default=str)[:200],
        )
    return _with_defaults(data, schema)


def _with_defaults(data: Any, schema: dict) -> Any:
    """Copy ``data`` with every schema default filled in, recursively."""
    if isinstance(data, dict) and schema.get("type") == "object":
        filled = dict(data)
        for key, sub in schema.get("properties", {}).items():
            if key not in filled and "default" in sub:
                filled[key] = json.loads(json.dumps(sub["default"]))
            if key in filled:
                filled[key] = _with_defaults(filled[key], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key in filled:
                if key not in schema.get("properties", {}):
                    filled[key] = _with_defaults(filled[key], extra)
        return filled
    if isinstance(data, list) and isinstance(schema.get("items"), dict):
        return [_with_defaults(item, schema["items"]) for item in data]
    return data


def _read_yaml(path: str | Path) -> Any:
    path = Path(path)
    if not path.is_file():
        raise ConfigError("config file not found", file=path, expected="a YAML file")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            "config is not valid YAML",
            file=path,
            row=mark.line + 1 if mark else None,
            expected="YAML",
            found=str(getattr(exc, "problem", exc)),
        ) from exc


def load_settings(path: str | Path = "config/config.yaml") -> Settings:
    """Read and validate the project settings."""
    data = _validate(_read_yaml(path), "settings", path)
    return settings_from_dict(data, path=str(path))


def settings_from_dict(data: dict, path: str | None = None) -> Settings:
    """Build :class:`Settings` from an already loaded mapping (validated again here)."""
    data = _validate(data, "settings", path)
    return Settings(
        cohorts=tuple(data["cohorts"]),
        cohort_dir=data["cohort_dir"],
        min_cell_size=data["min_cell_size"],
        alpha=data["alpha"],
        multiplicity=data["multiplicity"],
        multiplicity_family=data["multiplicity_family"],
        min_alpha=data["min_alpha"],
        path=path,
        data_roots=tuple(data["data_roots"]),
    )


_RANGE = re.compile(r"\{(\d+)\.\.(\d+)\}")


def expand_columns(spec: str | list[str]) -> tuple[str, ...]:
    """Expand a column spec: a list is taken as is; ``"Q3_{1..9}"`` gives Q3_1 ... Q3_9."""
    if isinstance(spec, list):
        return tuple(spec)
    match = _RANGE.search(spec)
    if not match:
        return (spec,)
    lo, hi = int(match.group(1)), int(match.group(2))
    step = 1 if hi >= lo else -1
    return tuple(
        spec[: match.start()] + str(i) + spec[match.end() :] for i in range(lo, hi + step, step)
    )


def load_cohort(path: str | Path) -> Cohort:
    """Read and validate one cohort file; every wave must have a source.

    Raises
    ------
    ConfigError
        Naming the file and the key of the first problem found.
    """
    cohort = cohort_from_dict(_read_yaml(path), path=str(path))
    check_sources(cohort)
    return cohort


def check_paths(cohort: Cohort, settings: Settings, root: str | Path | None = None) -> None:
    """Raise :class:`ConfigError` when a source lies outside the project folder (``root``,
    default the current folder) and outside ``settings.data_roots``. Nothing is read: a
    path such as ``../../etc/passwd`` is refused before any file is opened."""
    root = Path.cwd() if root is None else Path(root)
    allowed = [root.resolve(), *(Path(r).expanduser().resolve() for r in settings.data_roots)]
    for i, source in enumerate(cohort.sources):
        path = (root / Path(source.path).expanduser()).resolve()
        if not any(path.is_relative_to(folder) for folder in allowed):
            raise ConfigError(
                "a source lies outside the project folder and the data roots",
                file=cohort.path,
                column=f"sources.{i}.path",
                expected=f"a file inside {root.resolve()} or one of data_roots in the settings "
                f"({list(settings.data_roots) or 'none set'})",
                found=source.path,
            )


def check_sources(cohort: Cohort) -> None:
    """Raise :class:`ConfigError` when a wave of the cohort has no source (an export that
    holds rows of it). :func:`load_cohort` checks it; :func:`cohort_from_dict` does not, so
    that a config can be built for one export at a time."""
    for wave in cohort.waves:
        if not cohort.sources_for(wave):
            raise ConfigError(
                "a wave has no source",
                file=cohort.path,
                column="waves",
                expected=f"a source with wave: {wave} (or a wave_from value mapped to it)",
                found=f"no source for wave {wave!r}",
            )


def cohort_from_dict(raw: dict, path: str | None = None) -> Cohort:
    """Build a :class:`Cohort` from a mapping with the layout of a cohort file."""
    data = _validate(raw, "cohort", path)
    waves = tuple(data["waves"])

    def need_wave(wave: str, key: str) -> None:
        if wave not in waves:
            raise ConfigError(
                "unknown wave", file=path, column=key, expected=f"one of {list(waves)}", found=wave
            )

    for i, source in enumerate(data["sources"]):
        if ("wave" in source) == ("wave_from" in source):
            raise ConfigError(
                "a source needs exactly one of wave and wave_from",
                file=path,
                column=f"sources.{i}",
                expected="wave: NAME, or wave_from: {column: ..., values: {...}}",
                found=", ".join(k for k in ("wave", "wave_from") if k in source) or "neither",
            )
        if "wave" in source:
            need_wave(source["wave"], f"sources.{i}.wave")
        else:
            for value, wave in source["wave_from"]["values"].items():
                need_wave(wave, f"sources.{i}.wave_from.values.{value}")
    plan = _plan(data, raw.get("plan") or {}, waves, path, need_wave)
    both = set(data["group"]["participant"]) & set(data["group"]["comparison"])
    if both:
        raise ConfigError(
            "a group value is listed as both participant and comparison",
            file=path,
            column="group",
            expected="disjoint lists",
            found=str(sorted(both)),
        )

    custom = {}
    for instrument_id, spec in data["instruments"].items():
        if instrument_id in list_instruments():
            raise ConfigError(
                "a user-defined instrument has the id of a built-in one",
                file=path,
                column=f"instruments.{instrument_id}",
                expected=f"an id other than the built-in {list_instruments()}",
                found=instrument_id,
            )
        if spec.get("kind", "items") == "items" and not spec.get("items"):
            raise ConfigError(
                "a questionnaire instrument needs its items and responses",
                file=path,
                column=f"instruments.{instrument_id}",
                expected="items: [{id: 1, topic: ...}, ...] and responses: {label: value}",
                found=", ".join(sorted(spec)),
            )
        try:
            custom[instrument_id] = instrument_from_dict(
                {"id": instrument_id, **spec}, source=f"{path}: instruments.{instrument_id}"
            )
        except ConfigError as exc:
            raise ConfigError(
                exc.problem, file=path, column=f"instruments.{instrument_id}.{exc.column or ''}",
                expected=exc.expected, found=exc.found,
            ) from None  # fmt: skip

    outcomes = []
    for name, spec in data["outcomes"].items():
        try:
            instrument = custom.get(spec["instrument"]) or get_instrument(spec["instrument"])
        except ConfigError as exc:
            raise ConfigError(
                exc.problem,
                file=path,
                column=f"outcomes.{name}.instrument",
                expected=exc.expected,
                found=exc.found,
            ) from None
        selector = spec["columns"] if isinstance(spec["columns"], dict) else None
        columns = None if selector else expand_columns(spec["columns"])
        n_expected = 1 if instrument.kind == "numeric" else len(instrument.items)
        if columns is not None and len(columns) != n_expected:
            raise ConfigError(
                f"wrong number of item columns for {instrument.id}",
                file=path,
                column=f"outcomes.{name}.columns",
                expected=f"{n_expected} columns, in item order",
                found=f"{len(columns)}: {list(columns)}",
            )
        label = spec.get("label") or f"{name.replace('_', ' ').capitalize()}"
        if spec["grade_format"] != "points" and not instrument.letter_points:
            raise ConfigError(
                "grade_format letter or percent needs a grades instrument",
                file=path,
                column=f"outcomes.{name}.grade_format",
                expected="instrument: gpa (or grade_format: points)",
                found=f"instrument {instrument.id}",
            )
        letters = spec.get("letter_points")
        outcomes.append(
            Outcome(
                name, instrument, columns, label, spec["domain"], selector,
                grade_format=spec["grade_format"],
                case_at_least=spec.get("case_at_least"),
                case_label=spec.get("case_label")
                or f"{label}: score >= {spec.get('case_at_least')}",
                letter_points={str(k).strip().upper(): float(v) for k, v in letters.items()}
                if letters else None,
            )
        )  # fmt: skip

    _check_names(data, outcomes, path)
    return Cohort(
        name=data["name"],
        title=data.get("title", data["name"]),
        program=data["program"],
        waves=waves,
        sources=tuple(Source(**s) for s in data["sources"]),
        respondent_id=data["respondent_id"],
        pseudonym_key=data["pseudonym_key"],
        group_column=data["group"]["column"],
        participant_values=tuple(data["group"]["participant"]),
        comparison_values=tuple(data["group"]["comparison"]),
        cluster=data["cluster"],
        covariates=data["covariates"],
        missing_values=tuple(str(v) for v in data["missing_values"]),
        exclude=data["exclude"],
        outcomes=tuple(outcomes),
        plan=plan,
        path=path,
        raw=raw,
        min_linked_share=data["min_linked_share"],
    )


def _plan(data: dict, given: dict, waves: tuple[str, ...], path, need_wave) -> Plan:
    """The analysis plan with its wave defaults, checked against the waves and sources."""
    plan = data["plan"]
    assignment = plan.get("assignment_wave", waves[0])
    need_wave(assignment, "plan.assignment_wave")
    if "baseline_wave" in given:
        baseline = given["baseline_wave"]
    else:
        baseline = waves[0] if len(waves) > 1 else None
    if baseline is not None:
        need_wave(baseline, "plan.baseline_wave")
        if len(waves) == 1:
            raise ConfigError(
                "a one-wave cohort has no pre-program baseline to adjust for",
                file=path, column="plan.baseline_wave",
                expected="baseline_wave: null (or a second wave)", found=baseline,
            )  # fmt: skip
        if waves.index(baseline) > waves.index(assignment):
            raise ConfigError(
                "the baseline wave comes after the assignment wave",
                file=path, column="plan.baseline_wave",
                expected=f"{assignment!r} or a wave before it", found=baseline,
            )  # fmt: skip
    after = waves[waves.index(assignment) + 1 :]
    estimate_waves = after if (after and baseline is not None) else (assignment, *after)
    if baseline is not None and baseline in estimate_waves:
        estimate_waves = tuple(w for w in estimate_waves if w != baseline)
    if not estimate_waves:
        raise ConfigError(
            "no wave after the baseline to estimate effects at",
            file=path, column="plan.baseline_wave",
            expected=f"a wave after {baseline!r}, or baseline_wave: null", found=baseline,
        )  # fmt: skip
    primary = plan.get("primary_wave", estimate_waves[-1])
    need_wave(primary, "plan.primary_wave")
    if primary not in estimate_waves:
        raise ConfigError(
            "the primary wave must be a wave with estimates",
            file=path,
            column="plan.primary_wave",
            expected=f"one of {list(estimate_waves)} (after the baseline and assignment waves)",
            found=primary,
        )
    methods = tuple(plan["methods"])
    covariates = tuple(plan["covariates"])
    if baseline is None:
        if "did" in methods:
            raise ConfigError(
                "difference in differences needs a pre-program baseline",
                file=path, column="plan.methods",
                expected="methods without did when baseline_wave is null", found="did",
            )  # fmt: skip
        baselines = [f"{name}_baseline" for name in data["outcomes"]]
        uses_baseline = [t for t in covariates if any(b in t for b in baselines)]
        if uses_baseline:
            raise ConfigError(
                "a covariate refers to a baseline score, but the plan has no baseline wave",
                file=path, column="plan.covariates",
                expected="covariates measured at the assignment wave (e.g. C(gender))",
                found=", ".join(uses_baseline),
            )  # fmt: skip
        needs_terms = [m for m in methods if m in PROPENSITY_METHODS]
        if needs_terms and not covariates:
            raise ConfigError(
                "the propensity-score methods need covariates when there is no baseline score",
                file=path, column="plan.covariates",
                expected=f"one or more covariate terms for {', '.join(needs_terms)}",
                found="none",
            )  # fmt: skip
    if plan["se"] in ("CR1", "CR2") and not data["cluster"]:
        raise ConfigError(
            "cluster-robust standard errors need a cluster column",
            file=path,
            column="plan.se",
            expected="a 'cluster' key naming the school/site column, or se: auto",
            found=f"se: {plan['se']} without cluster",
        )
    return Plan(
        assignment_wave=assignment,
        baseline_wave=baseline,
        primary_wave=primary,
        estimate_waves=tuple(estimate_waves),
        estimand=plan["estimand"],
        methods=methods,
        covariates=covariates,
        se=plan["se"],
        propensity=plan["propensity"],
        design=plan["design"],
        group_from=plan["group_from"],
    )


#: Column names the pipeline itself uses in the responses, scores and analysis panels.
RESERVED_NAMES = frozenset(
    {"respondent_id", "wave", "group", "cluster", "participant", "change", "source",
     "row_number", "disposition", "detail", "analysis_group", "propensity_score"}
)  # fmt: skip


def _check_names(data: dict, outcomes: list[Outcome], path) -> None:
    """Covariate and outcome names must not collide with the pipeline's own columns, with
    each other, or with the columns derived from an outcome (items, baseline, caseness)."""
    derived = {}
    for outcome in outcomes:
        suffixes = ("", "_baseline", "_case", "_case_baseline", "_n_answered", "_band",
                    "_missing_reason")  # fmt: skip
        names = {f"{outcome.name}{suffix}" for suffix in suffixes} | set(outcome.item_names)
        derived |= dict.fromkeys(names, outcome.name)
    for outcome in outcomes:
        if outcome.name in RESERVED_NAMES:
            raise ConfigError(
                "an outcome has the name of a column the pipeline uses itself",
                file=path, column=f"outcomes.{outcome.name}",
                expected=f"a name other than {sorted(RESERVED_NAMES)}", found=outcome.name,
            )  # fmt: skip
        for other in outcomes:
            if other is not outcome and other.name in set(outcome.item_names) | {
                f"{outcome.name}_baseline", f"{outcome.name}_case"}:  # fmt: skip
                raise ConfigError(
                    "an outcome's name is a column derived from another outcome",
                    file=path, column=f"outcomes.{other.name}",
                    expected=f"a name that does not start with '{outcome.name}_'",
                    found=other.name,
                )  # fmt: skip
    for name in data["covariates"]:
        key = f"covariates.{name}"
        if name in RESERVED_NAMES:
            raise ConfigError(
                "a covariate has the name of a column the pipeline uses itself",
                file=path, column=key,
                expected=f"a name other than {sorted(RESERVED_NAMES)} (e.g. {name}_value)",
                found=name,
            )  # fmt: skip
        if name in derived:
            raise ConfigError(
                "a covariate has the name of an outcome or of a column derived from it",
                file=path, column=key,
                expected=f"a name other than those of outcome {derived[name]!r} "
                "(its score, items, baseline and caseness columns)",
                found=name,
            )  # fmt: skip
