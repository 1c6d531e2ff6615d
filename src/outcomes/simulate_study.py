"""Simulated studies of any shape, with the effects planted in them.

:mod:`outcomes.simulate` writes the demo's one shape (two Qualtrics waves, six schools,
self-selection). This module writes *plain CSV* exports of any shape a benchmark or a test
needs: one to six waves, with or without schools, self-selected, individually randomized or
cluster-randomized, with or without a pre-program baseline, questionnaire or numeric outcomes,
attrition with returns, group switchers, late entrants and skipped items; beside them a
``truth.json`` with the effects that are in the sample, and a cohort config that reads them
(:func:`study_cohort_config`).

The model
---------
Each student has a gender (Female, Male, Non-binary: 49/47/4 %), a grade level (9-12) and,
when the study has schools, a school (students spread evenly over the schools). For each
outcome ``j`` and wave ``t`` the untreated latent level is::

    latent0[t, j] = shift_j(gender, grade) + sqrt(icc) * school_j
                    + sqrt(1 - icc) * (sqrt(rho) * person_j + sqrt(1 - rho) * noise_tj)

with standard-normal school, person and wave components (correlated across outcomes; the same
correlation for each component), ``rho = 0.6`` (the person part's correlation between two
waves) and ``icc = 0`` without schools. The treated level adds ``effect`` latent SDs in the
direction of benefit (lower PHQ-9 and PSS-10, higher test scores) at every post-program wave:
waves 2, 3, ... with a baseline, every wave without one. Questionnaire items are the latent
plus item noise cut into the instrument's response categories, exactly as in
:mod:`outcomes.simulate` (its ``_answer`` and thresholds; reverse-keyed items answer on the
reversed latent) and are written as the response *labels*. A numeric score is
``mean + sd * latent`` rounded to 2 decimals and clipped to 0-100.

Both potential outcomes share every draw, and the written value is the one of the group the
student was *assigned* to (intention to treat), so the truth is exact for the sample.

Assignment (at wave 1; for late entrants at wave 2, their first wave):

- ``self_selected``: logit P(join) = a + 0.35 female + 0.20 non-binary - 0.20 (grade - 10.5)
  [+ 0.45 z(depression) + 0.30 z(stress) of the *observed* wave-1 scores (mixed outcomes), or
  - 0.50 z(math_score) (numeric outcomes), only when wave 1 is a pre-program baseline and only
  for students measured there] [+ u_school, a school effect on uptake with SD ``uptake_sd``,
  drawn independently of the outcomes: schools differ in how many of their students join],
  ``a`` set so that about a third join. An analysis adjusting for gender, grade level and
  those baseline scores is unbiased (u_school is unrelated to the outcomes; it makes joining
  cluster by school, so that ignoring the schools can understate the standard errors).
- ``randomized``: half of the students (half of each school when clustered) at random.
- ``cluster_randomized``: half of the schools at random; all their students take part.

Response: everyone assigned at wave 1 answers wave 1 (late entrants answer wave 2 first).
At each later wave a student fails to answer with probability ``0.8 * attrition``
(participants) or ``1.2 * attrition`` (comparison), independently of earlier waves, so a
student who missed a wave can come back (with three or more waves and ``attrition > 0`` at
least one return is guaranteed). Attrition depends only on the assigned group.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from outcomes.instruments import get_instrument, score_instrument
from outcomes.simulate import (
    _answer,
    _atomic_write_text,
    _calibrate_intercept,
    _labels,
    _score_codes,
)

__all__ = [
    "SimulatedStudy",
    "StudyShape",
    "simulate_study",
    "study_cohort_config",
    "write_study",
]

MAX_WAVES = 6
STABILITY = 0.6  #: correlation of the person part of the latent between two waves
SELF_SELECTED_SHARE = 1 / 3  #: expected share of joiners in a self-selected study
GENDERS = ("Female", "Male", "Non-binary")
_GENDER_P = (0.49, 0.47, 0.04)
_CASE_AT_LEAST = 10  # PHQ-9 moderate or above (Kroenke 2001)
_STREAMS = (
    "students",
    "latent",
    "items",
    "missing",
    "assignment",
    "response",
    "switching",
    "mess",
    "order",
)
_FIRST = ["alex", "sam", "jordan", "taylor", "maya", "noah", "liam", "emma", "ava", "leo"]
_LAST = ["garcia", "smith", "nguyen", "okafor", "kowalski", "haddad", "silva", "kim", "brown"]


@dataclass(frozen=True)
class _Spec:
    """One simulated outcome: how it is measured, written and shifted."""

    name: str
    instrument: str  # built-in id (items) or the id of a user-defined numeric instrument
    columns: tuple[str, ...]
    label: str
    domain: str
    benefit: float  # sign of the planted latent effect: -1 when lower is better
    shift: tuple[float, float, float]  # latent shift: female, non-binary, per grade above 10.5
    selection: float = 0.0  # weight of the observed baseline z-score in self-selection
    mean: float = 0.0  # numeric scores: mean + sd * latent
    sd: float = 1.0
    construct: str = ""

    @property
    def numeric(self) -> bool:
        return self.columns == (self.name,)


_MIXED = (
    _Spec(
        "depression", "phq9", tuple(f"phq_{i}" for i in range(1, 10)), "Depression (PHQ-9)",
        "mental_health", -1.0, (0.15, 0.40, 0.05), selection=0.45,
    ),
    _Spec(
        "stress", "pss10", tuple(f"pss_{i}" for i in range(1, 11)), "Stress (PSS-10)",
        "mental_health", -1.0, (0.20, 0.30, 0.05), selection=0.30,
    ),
    _Spec(
        "test_score", "achievement_test", ("test_score",), "Test score", "academic", 1.0,
        (0.05, 0.0, -0.03), mean=70.0, sd=12.0, construct="academic achievement",
    ),
)  # fmt: skip
_NUMERIC = (
    _Spec(
        "math_score", "math_test", ("math_score",), "Mathematics score", "academic", 1.0,
        (-0.05, 0.0, 0.0), selection=-0.50, mean=62.0, sd=15.0,
        construct="mathematics achievement",
    ),
    _Spec(
        "reading_score", "reading_test", ("reading_score",), "Reading score", "academic", 1.0,
        (0.15, 0.05, 0.0), mean=66.0, sd=13.0, construct="reading achievement",
    ),
)  # fmt: skip
_SPECS = {"mixed": _MIXED, "numeric": _NUMERIC}
# Correlation of the latent outcomes (for each of the school, person and wave components).
_CORRELATION = {
    "mixed": np.array([[1.0, 0.6, -0.25], [0.6, 1.0, -0.2], [-0.25, -0.2, 1.0]]),
    "numeric": np.array([[1.0, 0.65], [0.65, 1.0]]),
}
SCORE_RANGE = (0.0, 100.0)  #: range of every simulated numeric score


@dataclass(frozen=True)
class StudyShape:
    """The shape of a simulated study.

    Attributes
    ----------
    n_students : int
        Students in the study, late entrants included (at least 20).
    n_waves : int
        Survey waves, 1 to 6, named ``wave1``, ``wave2``, ...
    n_clusters : int
        Schools (column ``school``, values ``school_01``, ...); 0 for a study without clusters.
    design : {"self_selected", "randomized", "cluster_randomized"}
        How students come to take part (see the module docstring); ``cluster_randomized``
        needs ``n_clusters >= 4``.
    baseline : bool
        Wave 1 is measured before the program (no effect there). With ``False`` the program
        has started by wave 1, the effect is present at every wave and self-selection depends
        only on gender and grade level. A one-wave study needs ``False``.
    outcomes : {"mixed", "numeric"}
        ``mixed``: PHQ-9 (``depression``), PSS-10 (``stress``, with reverse-keyed items) and
        a numeric ``test_score``; ``numeric``: ``math_score`` and ``reading_score`` only
        (0-100, higher is better).
    caseness : bool
        Analyse PHQ-9 >= 10 as well (``case_at_least: 10`` in the config; truth rows for
        ``depression_case``). Ignored with numeric outcomes.
    item_missing : float
        Share of outcome cells (items and numeric scores) left blank, at random.
    attrition : float
        Probability, at each wave after the first, that a student does not answer
        (times 0.8 for participants, 1.2 for the comparison group); independent across waves.
    switch_rate : float
        Share of students whose *recorded* group flips from a later wave on (from then to the
        last wave). The planted effect follows the assigned group (intention to treat).
    late_entrants : int
        Students who first answer at wave 2 (absent from wave 1); at most half the students.
    icc : float
        Share of the latent variance that lies between schools (ignored without schools).
    effect : float
        Planted effect, in latent SDs, on every outcome at every post-program wave.
    mess : bool
        Add a few rows without an id and a few repeated submissions (same id, same answers).
    uptake_sd : float
        SD of a school effect on the logit of joining (self-selected designs with schools
        only; 0, the default, gives every school the same propensity model). It is drawn
        independently of the outcomes, so it does not confound, but it makes joining vary by
        school.
    """

    n_students: int = 400
    n_waves: int = 2
    n_clusters: int = 0
    design: Literal["self_selected", "randomized", "cluster_randomized"] = "self_selected"
    baseline: bool = True
    outcomes: Literal["mixed", "numeric"] = "mixed"
    caseness: bool = False
    item_missing: float = 0.0
    attrition: float = 0.15
    switch_rate: float = 0.0
    late_entrants: int = 0
    icc: float = 0.1
    effect: float = 0.3
    mess: bool = False
    uptake_sd: float = 0.0

    def __post_init__(self) -> None:
        problems = []
        if self.n_students < 20:
            problems.append("n_students must be at least 20")
        if not 1 <= self.n_waves <= MAX_WAVES:
            problems.append(f"n_waves must be 1..{MAX_WAVES}")
        if self.n_clusters < 0:
            problems.append("n_clusters must be 0 (none) or positive")
        if self.design not in ("self_selected", "randomized", "cluster_randomized"):
            problems.append(f"unknown design {self.design!r}")
        if self.design == "cluster_randomized" and self.n_clusters < 4:
            problems.append("a cluster-randomized design needs n_clusters >= 4")
        if self.outcomes not in _SPECS:
            problems.append(f"outcomes must be 'mixed' or 'numeric', not {self.outcomes!r}")
        if self.n_waves == 1 and self.baseline:
            problems.append("a one-wave study needs baseline=False (no post-program wave)")
        for name in ("item_missing", "attrition", "switch_rate"):
            if not 0.0 <= getattr(self, name) < 1.0:
                problems.append(f"{name} must be in [0, 1)")
        if not 0.0 <= self.icc < 1.0:
            problems.append("icc must be in [0, 1)")
        if not 0 <= self.late_entrants <= self.n_students // 2:
            problems.append("late_entrants must be between 0 and half of n_students")
        if self.n_waves == 1 and (self.late_entrants or self.switch_rate):
            problems.append("late entrants and switchers need n_waves >= 2")
        if not self.uptake_sd >= 0.0:
            problems.append("uptake_sd must be 0 or positive")
        elif self.uptake_sd and (self.design != "self_selected" or not self.n_clusters):
            problems.append("uptake_sd needs a self-selected design with schools")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def waves(self) -> tuple[str, ...]:
        """Wave names in time order: ``wave1``, ``wave2``, ..."""
        return tuple(f"wave{t + 1}" for t in range(self.n_waves))

    @property
    def outcome_names(self) -> tuple[str, ...]:
        """Outcome names, as in the cohort config and the truth."""
        return tuple(spec.name for spec in _SPECS[self.outcomes])

    @property
    def export_columns(self) -> tuple[str, ...]:
        """Columns of every wave's export, in file order."""
        school = ("school",) if self.n_clusters else ()
        items = tuple(c for spec in _SPECS[self.outcomes] for c in spec.columns)
        return ("student_id", "email", *school, "mentoring", "gender", "grade_level", *items)


@dataclass
class SimulatedStudy:
    """The output of :func:`simulate_study`.

    Attributes
    ----------
    shape : StudyShape
    seed : int
    exports : dict
        Wave name -> the export as a DataFrame of strings, in file column and row order.
    truth : dict
        The design and the planted effects (written as ``truth.json``).
    students : DataFrame
        One row per student: ``student_id``, ``email``, ``school`` (or None), ``gender``,
        ``grade_level``, ``participant`` (assigned group), ``p_join`` (probability of
        joining under the design), ``late_entrant``, ``switch_wave`` (first wave whose
        recorded group is flipped, or None), ``responded_<wave>`` and ``group_<wave>``
        (recorded ``Yes``/``No``, None when absent). Never written.
    potential : DataFrame
        Long table of ``student_id``, ``wave``, ``outcome``, ``y0``, ``y1`` (complete-item
        scores without and with the program) and ``observed`` (the assigned one). Never
        written.
    """

    shape: StudyShape
    seed: int
    exports: dict[str, pd.DataFrame]
    truth: dict
    students: pd.DataFrame
    potential: pd.DataFrame = field(repr=False)


@dataclass
class _Draws:
    """Everything drawn for one study, shared by the steps of :func:`simulate_study`.

    Arrays are indexed (student), (wave, student) or (wave, student, outcome); item codes and
    skip masks are keyed by ``(wave index, outcome index)``.
    """

    shape: StudyShape
    specs: tuple[_Spec, ...]
    clusters: list[str]
    school: np.ndarray | None
    gender: np.ndarray
    grade: np.ndarray
    late: np.ndarray
    student_id: np.ndarray
    email: np.ndarray
    post: np.ndarray
    y0: np.ndarray
    y1: np.ndarray
    codes0: dict = field(default_factory=dict)
    codes1: dict = field(default_factory=dict)
    blank: dict = field(default_factory=dict)
    participant: np.ndarray | None = None
    p_join: np.ndarray | None = None
    selection_baselines: list[str] = field(default_factory=list)
    responded: np.ndarray | None = None
    recorded: np.ndarray | None = None
    switch_wave: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.shape.n_students


def simulate_study(shape: StudyShape, *, seed: int) -> SimulatedStudy:
    """Simulate a study of the given shape (the model is in the module docstring).

    Parameters
    ----------
    shape : StudyShape
    seed : int
        Seed of the random streams; the same seed and shape give byte-identical files. Each
        part of the model (students, latent levels, item noise, skipped items, assignment,
        response, switching, mess, row order) has its own stream, so changing e.g.
        ``attrition`` leaves the students and their outcomes unchanged.

    Returns
    -------
    SimulatedStudy

    Examples
    --------
    >>> study = simulate_study(StudyShape(n_students=40, n_waves=3), seed=1)
    >>> list(study.exports), study.exports["wave1"].shape
    (['wave1', 'wave2', 'wave3'], (40, 25))
    >>> [row["truth_raw"] for row in study.truth["effects"] if row["wave"] == "wave1"]
    [0.0, 0.0, 0.0]
    """
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    rng = {name: np.random.default_rng(c) for name, c in zip(_STREAMS, children, strict=True)}
    draws = _draw_outcomes(shape, rng)
    _assign(draws, rng["assignment"])
    _respond(draws, rng["response"])
    _switch(draws, rng["switching"])
    exports, mess_counts = {}, {}
    for t, wave in enumerate(shape.waves):
        frame = _export_frame(draws, t)
        if shape.mess:
            frame, mess_counts[wave] = _add_mess(rng["mess"], frame)
        order = rng["order"].permutation(len(frame))
        exports[wave] = frame.iloc[order].reset_index(drop=True)
    truth = _truth(draws, seed, exports, mess_counts)
    return SimulatedStudy(shape, seed, exports, truth, _students(draws), _potential(draws))


def _draw_outcomes(shape: StudyShape, rng: dict) -> _Draws:
    """Students, latent levels and both potential outcomes at every wave."""
    specs = _SPECS[shape.outcomes]
    n, n_waves, n_clusters, n_outcomes = (
        shape.n_students, shape.n_waves, shape.n_clusters, len(specs),
    )  # fmt: skip
    r = rng["students"]
    width = max(2, len(str(n_clusters)))
    clusters = [f"school_{k + 1:0{width}d}" for k in range(n_clusters)]
    school = r.permutation(np.arange(n) % n_clusters) if n_clusters else None
    gender = r.choice(np.array(GENDERS, dtype=object), size=n, p=_GENDER_P)
    grade = r.integers(9, 13, size=n)
    late = np.zeros(n, dtype=bool)
    late[r.choice(n, size=shape.late_entrants, replace=False)] = True
    first, last = r.choice(_FIRST, size=n), r.choice(_LAST, size=n)
    email = [
        f"{f}.{la}{i + 1}@students.example.org"
        for i, (f, la) in enumerate(zip(first, last, strict=True))
    ]
    female = (gender == "Female").astype(float)
    nonbinary = (gender == "Non-binary").astype(float)

    # Latent levels (wave, student, outcome) without and with the program.
    r = rng["latent"]
    icc = shape.icc if n_clusters else 0.0
    chol = np.linalg.cholesky(_CORRELATION[shape.outcomes])
    between = (r.standard_normal((n_clusters, n_outcomes)) @ chol.T)[school] if n_clusters else 0
    person = r.standard_normal((n, n_outcomes)) @ chol.T
    noise = r.standard_normal((n_waves, n, n_outcomes)) @ chol.T
    coefficients = np.array([spec.shift for spec in specs])  # (outcome, 3)
    shift = np.column_stack([female, nonbinary, grade - 10.5]) @ coefficients.T
    stable = shift + np.sqrt(icc) * between + np.sqrt((1 - icc) * STABILITY) * person
    latent0 = stable[None] + np.sqrt((1 - icc) * (1 - STABILITY)) * noise
    post = np.array([not shape.baseline or t > 0 for t in range(n_waves)])
    benefit = np.array([spec.benefit for spec in specs])
    latent1 = latent0 + shape.effect * post[:, None, None] * benefit[None, None, :]

    draws = _Draws(
        shape=shape, specs=specs, clusters=clusters, school=school, gender=gender, grade=grade,
        late=late, student_id=np.array([f"S{i + 1:06d}" for i in range(n)], dtype=object),
        email=np.array(email, dtype=object), post=post, y0=np.empty((n_waves, n, n_outcomes)),
        y1=np.empty((n_waves, n, n_outcomes)),
    )  # fmt: skip
    # Item codes and scores: both potential outcomes share every draw.
    r = rng["items"]
    for t in range(n_waves):
        for j, spec in enumerate(specs):
            if spec.numeric:
                draws.y0[t, :, j] = _numeric_score(spec, latent0[t, :, j])
                draws.y1[t, :, j] = _numeric_score(spec, latent1[t, :, j])
                continue
            item_noise = r.standard_normal((n, len(spec.columns)))
            untreated = _answer(None, latent0[t, :, j], spec.instrument, noise=item_noise)
            treated = _answer(None, latent1[t, :, j], spec.instrument, noise=item_noise)
            draws.codes0[t, j], draws.codes1[t, j] = untreated, treated
            draws.y0[t, :, j] = _score_codes(untreated, spec.instrument)
            draws.y1[t, :, j] = _score_codes(treated, spec.instrument)
    r = rng["missing"]
    for t in range(n_waves):
        for j, spec in enumerate(specs):
            draws.blank[t, j] = r.random((n, len(spec.columns))) < shape.item_missing
    return draws


def _numeric_score(spec: _Spec, latent: np.ndarray) -> np.ndarray:
    return np.clip(np.round(spec.mean + spec.sd * latent, 2), *SCORE_RANGE)


def _half(rng, m: int) -> np.ndarray:
    """A random half of ``m`` units (the odd one out by a coin flip)."""
    k = m // 2 + int(m % 2 == 1 and rng.random() < 0.5)
    chosen = np.zeros(m, dtype=bool)
    chosen[rng.permutation(m)[:k]] = True
    return chosen


def _observed_wave1_score(draws: _Draws, j: int) -> np.ndarray:
    """The untreated wave-1 score an analyst sees (skipped items prorated, or missing)."""
    spec = draws.specs[j]
    if spec.numeric:
        return np.where(draws.blank[0, j][:, 0], np.nan, draws.y0[0, :, j])
    instrument = get_instrument(spec.instrument)
    values = draws.codes0[0, j].astype(float) + instrument.item_min
    values[draws.blank[0, j]] = np.nan
    frame = pd.DataFrame(values, columns=list(instrument.items))
    return score_instrument(frame, instrument)["score"].to_numpy()


def _assign(draws: _Draws, rng) -> None:
    """The assigned group, the probability of joining and the baseline scores selection used."""
    shape, n = draws.shape, draws.n
    if shape.design == "randomized":
        draws.participant = np.zeros(n, dtype=bool)
        if draws.school is None:
            strata = [np.arange(n)]
        else:
            strata = [np.flatnonzero(draws.school == k) for k in range(shape.n_clusters)]
        for members in strata:
            draws.participant[members] = _half(rng, members.size)
        draws.p_join = np.full(n, 0.5)
        return
    if shape.design == "cluster_randomized":
        draws.participant = _half(rng, shape.n_clusters)[draws.school]
        draws.p_join = np.full(n, 0.5)
        return
    female = (draws.gender == "Female").astype(float)
    nonbinary = (draws.gender == "Non-binary").astype(float)
    linear = 0.35 * female + 0.20 * nonbinary - 0.20 * (draws.grade - 10.5)
    if shape.baseline:  # wave 1 is before the program: selection on its observed scores
        for j, spec in enumerate(draws.specs):
            if not spec.selection:
                continue
            score = _observed_wave1_score(draws, j)
            known = ~draws.late & ~np.isnan(score)
            z = np.zeros(n)  # 0 for students without a wave-1 score
            z[known] = (score[known] - score[known].mean()) / score[known].std()
            linear = linear + spec.selection * z
            draws.selection_baselines.append(spec.name)
    if shape.uptake_sd:  # drawn only when set: the default leaves the stream as it was
        linear = linear + shape.uptake_sd * rng.standard_normal(shape.n_clusters)[draws.school]
    intercept = _calibrate_intercept(linear, SELF_SELECTED_SHARE)
    draws.p_join = 1 / (1 + np.exp(-(intercept + linear)))
    draws.participant = rng.random(n) < draws.p_join


def _respond(draws: _Draws, rng) -> None:
    """Who answers each wave; with 3+ waves and attrition at least one student comes back."""
    shape, n = draws.shape, draws.n
    responded = np.zeros((shape.n_waves, n), dtype=bool)
    responded[0] = ~draws.late
    p_miss = np.minimum(np.where(draws.participant, 0.8, 1.2) * shape.attrition, 0.95)
    for t in range(1, shape.n_waves):
        responded[t] = rng.random(n) >= p_miss
    if shape.n_waves > 1:
        responded[1] |= draws.late
    if shape.n_waves >= 3 and shape.attrition > 0 and not _returners(responded).any():
        i = int(rng.choice(np.flatnonzero(~draws.late)))
        responded[1, i], responded[2, i] = False, True
    draws.responded = responded


def _returners(responded: np.ndarray) -> np.ndarray:
    """Students who answered a wave after missing one since they first answered."""
    if responded.shape[0] < 3:
        return np.zeros(responded.shape[1], dtype=bool)
    seen = np.cumsum(responded, axis=0) > 0  # answered some wave <= t
    missed = seen[:-1] & ~responded[1:]  # [k]: missed wave k + 1 after answering before it
    later = np.flip(np.cumsum(np.flip(responded, 0), 0) > 0, 0)  # answers some wave >= t
    return (missed[:-1] & later[2:]).any(axis=0)


def _switch(draws: _Draws, rng) -> None:
    """Recorded group at each wave: switchers' flips from a wave after their first one on."""
    shape, n = draws.shape, draws.n
    entry = draws.late.astype(int)  # index of the student's first wave
    eligible = np.flatnonzero(entry < shape.n_waves - 1)
    n_switch = min(round(shape.switch_rate * n), eligible.size)
    switchers = np.sort(rng.choice(eligible, size=n_switch, replace=False))
    draws.switch_wave = np.full(n, -1)
    draws.switch_wave[switchers] = rng.integers(entry[switchers] + 1, shape.n_waves)
    waves = np.arange(shape.n_waves)[:, None]
    flipped = (draws.switch_wave[None, :] >= 0) & (draws.switch_wave[None, :] <= waves)
    draws.recorded = np.where(flipped, ~draws.participant[None, :], draws.participant[None, :])


def _export_frame(draws: _Draws, t: int) -> pd.DataFrame:
    """One wave's export: one row per responding student, in student order."""
    rows = np.flatnonzero(draws.responded[t])
    columns: dict[str, np.ndarray] = {
        "student_id": draws.student_id[rows],
        "email": draws.email[rows],
    }
    if draws.school is not None:
        columns["school"] = np.array(draws.clusters, dtype=object)[draws.school[rows]]
    columns["mentoring"] = np.where(draws.recorded[t, rows], "Yes", "No").astype(object)
    columns["gender"] = draws.gender[rows]
    columns["grade_level"] = draws.grade[rows].astype(str).astype(object)
    treated = draws.participant[rows]
    for j, spec in enumerate(draws.specs):
        if spec.numeric:
            values = np.where(treated, draws.y1[t, rows, j], draws.y0[t, rows, j])
            text = np.char.mod("%.2f", values).astype(object)[:, None]
        else:
            codes = np.where(treated[:, None], draws.codes1[t, j][rows], draws.codes0[t, j][rows])
            text = _labels(spec.instrument)[codes]
        text[draws.blank[t, j][rows]] = ""
        for pos, column in enumerate(spec.columns):
            columns[column] = text[:, pos]
    return pd.DataFrame(columns)


def _add_mess(rng, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """A few rows without an id (a forwarded link) and repeated submissions (same answers)."""
    m = len(frame)
    no_id = frame.iloc[np.sort(rng.choice(m, size=max(1, m // 200), replace=False))].copy()
    no_id[["student_id", "email"]] = ""
    repeats = frame.iloc[np.sort(rng.choice(m, size=max(1, m // 100), replace=False))].copy()
    counts = {"without_id": len(no_id), "repeated_submissions": len(repeats)}
    return pd.concat([frame, no_id, repeats], ignore_index=True), counts


def _students(draws: _Draws) -> pd.DataFrame:
    waves = draws.shape.waves
    school = np.array(draws.clusters, dtype=object)[draws.school] if draws.clusters else None
    frame = pd.DataFrame(
        {
            "student_id": draws.student_id,
            "email": draws.email,
            "school": school,
            "gender": draws.gender,
            "grade_level": draws.grade,
            "participant": draws.participant,
            "p_join": draws.p_join,
            "late_entrant": draws.late,
            "switch_wave": [waves[s] if s >= 0 else None for s in draws.switch_wave],
        }
    )
    for t, wave in enumerate(waves):
        frame[f"responded_{wave}"] = draws.responded[t]
    for t, wave in enumerate(waves):
        recorded = np.where(draws.recorded[t], "Yes", "No").astype(object)
        frame[f"group_{wave}"] = np.where(draws.responded[t], recorded, None)
    return frame


def _potential(draws: _Draws) -> pd.DataFrame:
    n_waves, n, n_outcomes = draws.y0.shape
    names = np.array([spec.name for spec in draws.specs], dtype=object)
    treated = np.tile(np.repeat(draws.participant, n_outcomes), n_waves)
    y0, y1 = draws.y0.reshape(-1), draws.y1.reshape(-1)
    return pd.DataFrame(
        {
            "student_id": np.tile(np.repeat(draws.student_id, n_outcomes), n_waves),
            "wave": np.repeat(np.array(draws.shape.waves, dtype=object), n * n_outcomes),
            "outcome": np.tile(names, n * n_waves),
            "y0": y0,
            "y1": y1,
            "observed": np.where(treated, y1, y0),
        }
    )


def _selection_words(shape: StudyShape, used: list[str]) -> str:
    if shape.design == "randomized":
        within = " within each school" if shape.n_clusters else ""
        return f"individually randomized: a random half of the students{within} take part"
    if shape.design == "cluster_randomized":
        return "cluster-randomized: a random half of the schools take part, all their students"
    words = (
        "self-selected: logit P(join) = a + 0.35 female + 0.20 non-binary "
        "- 0.20 (grade_level - 10.5)"
    )
    weights = {spec.name: spec.selection for spec in _SPECS[shape.outcomes]}
    for name in used:
        sign = "+" if weights[name] > 0 else "-"
        words += f" {sign} {abs(weights[name]):.2f} z(observed wave1 {name} score)"
    if shape.uptake_sd:
        words += f" + u_school (SD {shape.uptake_sd:g}, independent of the outcomes)"
    words += f", a set so that about {SELF_SELECTED_SHARE:.0%} join"
    if used:
        words += (
            "; students without a wave1 score (late entrants, too many skipped items) "
            "join on gender and grade level only"
        )
    return words


def _truth(draws: _Draws, seed: int, exports: dict, mess_counts: dict) -> dict:
    shape, waves = draws.shape, draws.shape.waves
    participant, responded = draws.participant, draws.responded
    outcomes = [(j, spec.name, spec.instrument, None) for j, spec in enumerate(draws.specs)]
    if shape.caseness and shape.outcomes == "mixed":
        outcomes.append((0, "depression_case", "phq9", _CASE_AT_LEAST))
    rows = []
    for t, wave in enumerate(waves):
        present = participant & responded[t]
        for j, name, instrument, cut in outcomes:
            y0, y1 = draws.y0[t, :, j], draws.y1[t, :, j]
            if cut is not None:
                y0, y1 = (y0 >= cut).astype(float), (y1 >= cut).astype(float)
            difference = y1 - y0
            raw = float(difference[participant].mean())
            responders = round(float(difference[present].mean()), 6) if present.any() else None
            sd0 = float(np.std(y0, ddof=1))
            latent = shape.effect * draws.specs[j].benefit if draws.post[t] else 0.0
            rows.append(
                {
                    "outcome": name,
                    "instrument": instrument,
                    "wave": wave,
                    "post_program": bool(draws.post[t]),
                    "latent_effect": float(latent),
                    "truth_raw": round(raw, 6),
                    "truth_raw_responders": responders,
                    "truth_std": round(raw / sd0, 6) if sd0 > 0 else None,
                    "sd_untreated": round(sd0, 6),
                    "n_participants": int(participant.sum()),
                    "n_participants_responding": int(present.sum()),
                }
            )
    attrition = (
        f"at each wave after wave1 a student does not answer with probability "
        f"{min(0.8 * shape.attrition, 0.95):.3f} (participants) or "
        f"{min(1.2 * shape.attrition, 0.95):.3f} (comparison), independently across waves; "
        "absent students can come back"
    )
    return {
        "description": "Planted effects of a simulated program. truth_raw: mean over the "
        "assigned participants (assigned at wave1, late entrants at wave2; absent or not) of "
        "the score with the program minus the score without it, in score units (the sample "
        "ATT, intention to treat); truth_raw_responders: the same over the participants who "
        "answered that wave; truth_std: truth_raw divided by the SD of the untreated score at "
        "that wave over all students. Scores are complete-item sums (items) or the 2-decimal "
        "value (numeric); depression_case is the indicator PHQ-9 >= 10 (a risk difference).",
        "shape": asdict(shape),
        "seed": seed,
        "waves": list(waves),
        "post_program_waves": [w for t, w in enumerate(waves) if draws.post[t]],
        "n_students": shape.n_students,
        "n_participants": int(participant.sum()),
        "n_clusters": shape.n_clusters,
        "clusters": list(draws.clusters),
        "icc": shape.icc if shape.n_clusters else 0.0,
        "stability": STABILITY,
        "design": shape.design,
        "selection": _selection_words(shape, draws.selection_baselines),
        "selection_baselines": list(draws.selection_baselines),
        "attrition": attrition,
        "n_responding": {w: int(responded[t].sum()) for t, w in enumerate(waves)},
        "n_rows": {w: len(exports[w]) for w in waves},
        "n_returners": int(_returners(responded).sum()),
        "n_late_entrants": int(draws.late.sum()),
        "n_switchers": int((draws.switch_wave >= 0).sum()),
        "mess": mess_counts,
        "effects": rows,
    }


def write_study(study: SimulatedStudy, data_dir: str | Path) -> dict[str, Path]:
    """Write every wave as ``<wave>.csv`` (UTF-8, one header row, LF) and ``truth.json``.

    Files are written whole: each goes to a temporary name first, then is renamed.

    Returns
    -------
    dict
        Wave name (and ``"truth"``) -> path written.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for wave, frame in study.exports.items():
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, lineterminator="\n")
        path = data_dir / f"{wave}.csv"
        _atomic_write_text(path, buffer.getvalue())
        written[wave] = path
    path = data_dir / "truth.json"
    _atomic_write_text(path, json.dumps(study.truth, indent=2) + "\n")
    written["truth"] = path
    return written


def study_cohort_config(study: SimulatedStudy, data_dir: str | Path, name: str) -> dict:
    """The cohort config (as a mapping) that reads a study written to ``data_dir``.

    Parameters
    ----------
    study : SimulatedStudy
    data_dir : path
        Where :func:`write_study` wrote the exports (kept as given, relative or absolute).
    name : str
        Cohort name (lowercase letters, digits and ``_``).

    Returns
    -------
    dict
        The layout of a ``config/cohorts/<name>.yaml`` file. Its ``plan`` uses keys the config
        loader accepts only once extended: ``design`` (``self_selected`` or ``randomized``),
        ``assignment_wave``, ``baseline_wave`` (None without a pre-program wave),
        ``group_from: assignment``, ``se: auto``. ``email`` is never mapped.
    """
    shape = study.shape
    specs = _SPECS[shape.outcomes]
    waves = list(shape.waves)
    baseline_wave = "wave1" if shape.baseline and shape.n_waves > 1 else None
    self_selected = shape.design == "self_selected"
    outcomes = {}
    for spec in specs:
        entry = {
            "instrument": spec.instrument,
            "columns": list(spec.columns),
            "label": spec.label,
            "domain": spec.domain,
        }
        if spec.name == "depression" and shape.caseness:
            entry["case_at_least"] = _CASE_AT_LEAST
            entry["case_label"] = "Depression in the moderate range or above (PHQ-9 >= 10)"
        outcomes[spec.name] = entry
    instruments = {
        spec.instrument: {
            "name": f"{spec.label} (simulated, 0-100)",
            "construct": spec.construct,
            "citation": "Simulated by outcomes.simulate_study; not a published instrument.",
            "kind": "numeric",
            "range": list(SCORE_RANGE),
            "direction": "higher_is_better",
        }
        for spec in specs
        if spec.numeric
    }
    if self_selected:
        methods = ["unadjusted", "ancova", "ipw", "aipw", "matching"]
        methods += ["did"] if baseline_wave else []
    else:
        methods = ["unadjusted", "ancova"]
    covariates = ["C(gender)", "grade_level"]
    if self_selected and baseline_wave:
        covariates += [f"{o}_baseline" for o in study.truth["selection_baselines"]]
    return {
        "name": name,
        "title": f"Simulated study ({shape.design.replace('_', '-')}, {shape.n_waves} "
        f"wave{'s' if shape.n_waves > 1 else ''})",
        "program": "the simulated program",
        "waves": waves,
        "sources": [
            {"path": (Path(data_dir) / f"{w}.csv").as_posix(), "wave": w, "format": "csv"}
            for w in waves
        ],
        "respondent_id": "student_id",
        "pseudonym_key": {"demo": True},
        "group": {"column": "mentoring", "participant": ["Yes"], "comparison": ["No"]},
        "cluster": "school" if shape.n_clusters else None,
        "covariates": {
            "gender": {"column": "gender", "type": "categorical"},
            "grade_level": {"column": "grade_level", "type": "numeric"},
        },
        "outcomes": outcomes,
        "instruments": instruments,
        "plan": {
            "design": "self_selected" if self_selected else "randomized",
            "assignment_wave": "wave1",
            "baseline_wave": baseline_wave,
            "primary_wave": waves[-1],
            "group_from": "assignment",
            "se": "auto",
            "estimand": "ATT",
            "methods": methods,
            "covariates": covariates,
            "propensity": {"caliper": 0.2},
        },
    }
