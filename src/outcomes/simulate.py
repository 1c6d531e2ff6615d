"""A realistic peer-mentoring cohort with planted program effects.

The generator behind the committed demo (``data/demo/``), the workflow tests and the benchmarks.
It writes what an evaluator would receive: two Qualtrics-style CSV exports (baseline before the
program, follow-up at the end of term), with the mess real exports have, and a ``truth.json``
beside them with the effects that were planted.

The model
---------
Students sit in schools; each has a gender and a grade level. Five latent traits (stress,
self-esteem, depression, anxiety, loneliness) are multivariate normal with realistic
correlations, shifted by gender, grade level and a stable school effect. A student joins
mentoring with a probability that rises with their *observed* baseline loneliness and stress
scores, with being female and with lower grade levels, so the naive follow-up comparison is
biased: joiners start lonelier and more stressed. At follow-up each trait is
``rho * baseline + sqrt(1 - rho^2) * new noise + effect * participant``. Every item is the
trait plus item noise, cut into the instrument's response categories; positively worded items
are answered on the reversed trait. GPA (school records, embedded in the export) depends on
depression and self-esteem and moves with the program effect in grade points.

The truth
---------
Both potential outcomes are drawn for every student with the same noise, so the planted effect
in score units is exact for this sample: ``truth_raw`` is the mean over participants of
(score if mentored - score if not) at follow-up (the sample ATT), ``truth_std`` divides it by the
standard deviation of the untreated follow-up score in the whole cohort. Selection depends
only on observed baseline scores, gender and grade level, and attrition only on the group and
the observed baseline stress score, so an analysis that adjusts for those is unbiased.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from outcomes.instruments import get_instrument, score_instrument
from outcomes.instruments.registry import Instrument

#: Outcome name -> (instrument id, Qualtrics question tag) in the demo survey.
DEMO_SCALES: dict[str, tuple[str, str]] = {
    "stress": ("pss10", "Q1"),
    "self_esteem": ("rses", "Q2"),
    "depression": ("phq9", "Q3"),
    "anxiety": ("gad7", "Q4"),
    "loneliness": ("ucla3", "Q5"),
}
LATENT_ORDER = list(DEMO_SCALES)
#: The benchmark survey adds the 20-item UCLA-LS v3 (59 items + GPA = 60 item columns); it
#: measures the same latent loneliness as the UCLA-3.
LONG_FORM = ("ucla20", "Q7")

#: Planted effects on the latent traits, in latent SD units (GPA: grade points).
DEFAULT_EFFECTS: dict[str, float] = {
    "stress": -0.25,
    "self_esteem": 0.20,
    "depression": -0.20,
    "anxiety": 0.0,
    "loneliness": -0.40,
    "gpa": 0.12,
}

# Correlations between the latent traits (stress, self-esteem, depression, anxiety, loneliness),
# in the range reported for adolescent samples: distress scales correlate 0.5-0.7, self-esteem
# correlates negatively with them, loneliness moderately with all.
_CORRELATION = np.array(
    [
        [1.00, -0.45, 0.60, 0.60, 0.40],
        [-0.45, 1.00, -0.55, -0.40, -0.45],
        [0.60, -0.55, 1.00, 0.70, 0.50],
        [0.60, -0.40, 0.70, 1.00, 0.40],
        [0.40, -0.45, 0.50, 0.40, 1.00],
    ]
)
# Thresholds on the standard-normal item latent that cut it into response categories,
# chosen so that item distributions resemble school samples (PHQ-9 mean ~6-7, UCLA-3 ~5).
_THRESHOLDS = {
    "pss10": [-1.6, -0.7, 0.3, 1.2],
    "rses": [-1.3, -0.3, 0.9],
    "phq9": [-0.1, 0.8, 1.4],
    "gad7": [-0.1, 0.8, 1.4],
    "ucla3": [0.0, 1.0],
    "ucla20": [-0.8, 0.1, 1.1],
}
_ITEM_SHIFT = {("phq9", 9): 1.1}
_LOADING = 0.72  # item-trait correlation: alpha ~0.8-0.9 for the long scales
_STABILITY = 0.6  # baseline -> follow-up correlation of each latent trait
_SCHOOLS = [
    "Northside High",
    "Riverside High",
    "Lakeview Academy",
    "Hillcrest High",
    "Eastgate High",
    "Westfield High",
]
_FIRST = ["Alex", "Sam", "Jordan", "Taylor", "Maya", "Noah", "Liam", "Emma", "Ava", "Leo"]
_LAST = ["Garcia", "Smith", "Nguyen", "Okafor", "Kowalski", "Haddad", "Silva", "Kim", "Brown"]
_METADATA = [
    ("StartDate", "Start Date", "startDate"),
    ("EndDate", "End Date", "endDate"),
    ("Status", "Response Type", "status"),
    ("IPAddress", "IP Address", "ipAddress"),
    ("Progress", "Progress", "progress"),
    ("Duration (in seconds)", "Duration (in seconds)", "duration"),
    ("Finished", "Finished", "finished"),
    ("RecordedDate", "Recorded Date", "recordedDate"),
    ("ResponseId", "Response ID", "_recordId"),
    ("RecipientLastName", "Recipient Last Name", "recipientLastName"),
    ("RecipientFirstName", "Recipient First Name", "recipientFirstName"),
    ("RecipientEmail", "Recipient Email", "recipientEmail"),
    ("ExternalReference", "External Data Reference", "externalDataReference"),
    ("LocationLatitude", "Location Latitude", "locationLatitude"),
    ("LocationLongitude", "Location Longitude", "locationLongitude"),
    ("DistributionChannel", "Distribution Channel", "distributionChannel"),
    ("UserLanguage", "User Language", "userLanguage"),
]
_EMBEDDED = ["school", "gender", "grade_level", "mentoring", "gpa"]
_WAVE_DATES = {"baseline": "2026-09-14", "followup": "2026-12-07"}


@dataclass
class SimulatedCohort:
    """The output of :func:`simulate_cohort`.

    Attributes
    ----------
    exports : dict
        Wave name -> the export as a DataFrame of strings, in file column order, with the
        question-text row and the ImportId row as ``attrs["question_text"]`` and
        ``attrs["import_ids"]``.
    truth : dict
        Planted effects and the design of the simulation (written as ``truth.json``).
    students : DataFrame
        One row per student with latent and observed values (for tests; never written).
    """

    exports: dict[str, pd.DataFrame]
    truth: dict
    students: pd.DataFrame


def simulate_cohort(
    n_students: int = 1000,
    *,
    seed: int = 2026,
    n_schools: int = 6,
    effects: dict[str, float] | None = None,
    participation: float = 1 / 3,
    mess: bool = True,
    long_form: bool = False,
    id_offset: int = 0,
) -> SimulatedCohort:
    """Simulate a two-wave peer-mentoring cohort as Qualtrics-style exports.

    Parameters
    ----------
    n_students : int
        Students in the cohort (each has a baseline response unless lost to the mess).
    seed : int
        Seed of the random generator; the same seed gives byte-identical exports.
    n_schools : int
        Number of schools (clusters), at most 6 named ones, then numbered.
    effects : dict, optional
        Planted latent effects by outcome (see ``DEFAULT_EFFECTS``); missing keys keep the
        default.
    participation : float
        Target share of students who join mentoring.
    mess : bool
        Add preview/test responses, unfinished responses, duplicates, speeders, skipped items
        and records without an id. With ``False`` only attrition remains.
    long_form : bool
        Add the 20-item UCLA-LS v3 (columns ``Q7_1..Q7_20``), for 60 item columns in all (the
        benchmark survey). Drawn from a separate random stream, so the other columns are the
        same with or without it.
    id_offset : int
        Added to the student number, so that cohorts simulated in chunks have distinct ids.

    Returns
    -------
    SimulatedCohort
    """
    if n_students < 20:
        raise ValueError("n_students must be at least 20")
    rng = np.random.default_rng(seed)
    effects = {**DEFAULT_EFFECTS, **(effects or {})}
    n = n_students

    schools = np.array(
        [_SCHOOLS[i] if i < len(_SCHOOLS) else f"School {i + 1}" for i in range(n_schools)]
    )
    school_idx = rng.integers(0, n_schools, size=n)
    school_effect = rng.normal(0, 0.2, size=n_schools)[school_idx]
    gender = rng.choice(["Female", "Male", "Non-binary"], size=n, p=[0.49, 0.47, 0.04])
    grade = rng.integers(9, 13, size=n)
    female = (gender == "Female").astype(float)
    nonbinary = (gender == "Non-binary").astype(float)

    # Latent traits: common school effect on distress, gender and grade shifts.
    chol = np.linalg.cholesky(_CORRELATION)
    shift = np.zeros((n, 5))
    shift[:, 0] = 0.20 * female + 0.30 * nonbinary + 0.05 * (grade - 10.5) + school_effect
    shift[:, 1] = -0.15 * female - 0.30 * nonbinary - school_effect
    shift[:, 2] = 0.15 * female + 0.40 * nonbinary + school_effect
    shift[:, 3] = 0.25 * female + 0.40 * nonbinary + school_effect
    shift[:, 4] = 0.05 * female + 0.30 * nonbinary - 0.05 * (grade - 10.5)
    base = shift + rng.standard_normal((n, 5)) @ chol.T
    innovation = rng.standard_normal((n, 5)) @ chol.T
    follow0 = shift + _STABILITY * (base - shift) + np.sqrt(1 - _STABILITY**2) * innovation

    academic0 = rng.standard_normal(n)
    academic1 = 0.8 * academic0 + 0.6 * rng.standard_normal(n)

    def gpa(academic, latent):
        raw = 3.0 + 0.45 * academic - 0.12 * latent[:, 2] + 0.10 * latent[:, 1]
        return raw

    gpa_base = np.clip(np.round(gpa(academic0, base), 2), 0.0, 4.0)

    # Item answers at baseline (category codes 0..m-1, before labels).
    ids = {s: DEMO_SCALES[s][0] for s in LATENT_ORDER}
    base_items = {s: _answer(rng, base[:, j], ids[s]) for j, s in enumerate(LATENT_ORDER)}
    base_scores = {s: _score_codes(base_items[s], ids[s]) for s in LATENT_ORDER}

    # Self-selection on observed baseline loneliness and stress, gender and grade level.
    def z(x):
        return (x - x.mean()) / x.std()

    linear = (
        0.55 * z(base_scores["loneliness"])
        + 0.40 * z(base_scores["stress"])
        + 0.35 * female
        - 0.20 * (grade - 10.5)
    )
    intercept = _calibrate_intercept(linear, participation)
    joins = rng.random(n) < 1 / (1 + np.exp(-(intercept + linear)))

    # Follow-up: both potential outcomes share every noise draw.
    follow_items0, follow_items1 = {}, {}
    item_noise = {s: rng.standard_normal((n, _n_items(ids[s]))) for s in LATENT_ORDER}
    for j, s in enumerate(LATENT_ORDER):
        follow_items0[s] = _answer(None, follow0[:, j], ids[s], noise=item_noise[s])
        follow_items1[s] = _answer(None, follow0[:, j] + effects[s], ids[s], noise=item_noise[s])
    gpa_noise = rng.normal(0, 0.25, size=n)
    gpa_follow0 = np.clip(np.round(gpa(academic1, follow0) + gpa_noise, 2), 0.0, 4.0)
    gpa_follow1 = np.clip(np.round(gpa(academic1, follow0) + gpa_noise + effects["gpa"], 2), 0, 4)

    truth_rows = []
    for s in [*LATENT_ORDER, "gpa"]:
        if s == "gpa":
            y0, y1 = gpa_follow0, gpa_follow1
        else:
            y0 = _score_codes(follow_items0[s], ids[s])
            y1 = _score_codes(follow_items1[s], ids[s])
        att = float(np.mean(y1[joins] - y0[joins]))
        sd0 = float(np.std(y0, ddof=1))
        truth_rows.append(
            {
                "outcome": s,
                "instrument": "gpa" if s == "gpa" else DEMO_SCALES[s][0],
                "latent_effect": effects[s],
                "truth_raw": round(att, 6),
                "truth_std": round(att / sd0, 6),
                "sd_untreated_followup": round(sd0, 6),
            }
        )

    follow_items = {
        s: np.where(joins[:, None], follow_items1[s], follow_items0[s]) for s in LATENT_ORDER
    }
    gpa_follow = np.where(joins, gpa_follow1, gpa_follow0)

    # Attrition at follow-up: more among non-participants and among the stressed.
    attrition_logit = -1.5 - 0.9 * joins + 0.3 * z(base_scores["stress"])
    responds_followup = rng.random(n) >= 1 / (1 + np.exp(-attrition_logit))

    student_id = np.array([f"S{100000 + id_offset + i:06d}" for i in range(n)])
    first = rng.choice(_FIRST, size=n)
    last = rng.choice(_LAST, size=n)
    students = pd.DataFrame(
        {
            "student_id": student_id,
            "school": schools[school_idx],
            "gender": gender,
            "grade_level": grade,
            "participant": joins,
            "responds_followup": responds_followup,
            "first_name": first,
            "last_name": last,
            "email": [
                f"{f.lower()}.{la.lower()}{i}@students.example.org"
                for i, (f, la) in enumerate(zip(first, last, strict=True))
            ],
            **{f"{s}_baseline": base_scores[s] for s in LATENT_ORDER},
            "gpa_baseline": gpa_base,
        }
    )

    if long_form:
        extra = np.random.default_rng([seed, 20])
        observed_follow = follow0[:, 4] + effects["loneliness"] * joins
        for source, trait in ((base_items, base[:, 4]), (follow_items, observed_follow)):
            source["loneliness_long"] = _answer(extra, trait, LONG_FORM[0])
    exports = {}
    for wave, present, items, gpa_values in [
        ("baseline", np.ones(n, dtype=bool), base_items, gpa_base),
        ("followup", responds_followup, follow_items, gpa_follow),
    ]:
        exports[wave] = _export(rng, wave, students, present, items, gpa_values, mess=mess)

    truth = {
        "description": "Planted effects of the simulated peer-mentoring program on follow-up "
        "outcomes. truth_raw: mean over participants of the difference between the score "
        "with and without mentoring (sample ATT, score units); truth_std: truth_raw divided "
        "by the SD of the untreated follow-up score in the whole cohort.",
        "seed": seed,
        "n_students": n,
        "n_participants": int(joins.sum()),
        "n_schools": n_schools,
        "selection": "logit P(join) rises with observed baseline loneliness (0.55 per SD) and "
        "stress (0.40 per SD), being female (0.35) and lower grade level (-0.20 per grade)",
        "attrition": "follow-up nonresponse depends on group and observed baseline stress",
        "effects": truth_rows,
    }
    return SimulatedCohort(exports=exports, truth=truth, students=students)


def write_cohort(cohort: SimulatedCohort, outdir: str | Path) -> dict[str, Path]:
    """Write the exports (``baseline.csv``, ``followup.csv``) and ``truth.json``.

    Files are written whole: each goes to a temporary name first, then is renamed.

    Returns
    -------
    dict
        File role -> path written.
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = {}
    for wave, frame in cohort.exports.items():
        path = outdir / f"{wave}.csv"
        _atomic_write_text(path, qualtrics_csv_text(frame))
        written[wave] = path
    truth_path = outdir / "truth.json"
    _atomic_write_text(truth_path, json.dumps(cohort.truth, indent=2) + "\n")
    written["truth"] = truth_path
    return written


def qualtrics_csv_text(frame: pd.DataFrame) -> str:
    """Render an export frame as a current-format Qualtrics CSV (three header rows, CRLF)."""
    header = pd.DataFrame(
        [
            list(frame.columns),
            frame.attrs["question_text"],
            [json.dumps({"ImportId": i}, separators=(",", ":")) for i in frame.attrs["import_ids"]],
        ]
    )
    buffer = io.StringIO()
    for part in (header, frame):
        part.to_csv(buffer, header=False, index=False, lineterminator="\r\n")
    return buffer.getvalue()


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _n_items(instrument_id: str) -> int:
    return len(get_instrument(instrument_id).items)


def _reversed_positions(instrument: Instrument) -> np.ndarray:
    return np.array([item in instrument.reverse for item in instrument.items])


def _answer(rng, trait: np.ndarray, instrument_id: str, noise=None) -> np.ndarray:
    """Category codes (0 = lowest response value) for every item of a scale."""
    instrument = get_instrument(instrument_id)
    k = len(instrument.items)
    if noise is None:
        noise = rng.standard_normal((trait.shape[0], k))
    latent = _LOADING * trait[:, None] + np.sqrt(1 - _LOADING**2) * noise
    # Positively worded (reverse-keyed) items are answered on the reversed trait.
    latent = np.where(_reversed_positions(instrument)[None, :], -latent, latent)
    # Rarer items answer on thresholds moved up (PHQ-9 item 9: about 1 student in 8 reports
    # any thoughts of self-harm, in the range school surveys find).
    shift = np.array([_ITEM_SHIFT.get((instrument.id, item), 0.0) for item in instrument.items])
    return np.searchsorted(_THRESHOLDS[instrument.id], latent - shift[None, :]).astype(np.int8)


def _score_codes(codes: np.ndarray, instrument_id: str) -> np.ndarray:
    instrument = get_instrument(instrument_id)
    values = codes.astype(float) + instrument.item_min
    frame = pd.DataFrame(values, columns=list(instrument.items))
    return score_instrument(frame, instrument)["score"].to_numpy()


def _calibrate_intercept(linear: np.ndarray, share: float) -> float:
    """Intercept that makes the expected share of joiners equal ``share`` (bisection)."""
    lo, hi = -10.0, 10.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(mid + linear)))) < share:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _labels(instrument_id: str) -> np.ndarray:
    """Response labels ordered by item value (index = category code)."""
    instrument = get_instrument(instrument_id)
    return np.array(sorted(instrument.responses, key=instrument.responses.get), dtype=object)


def _export(rng, wave, students, present, items, gpa_values, *, mess: bool) -> pd.DataFrame:
    """Build one wave's export: one row per responding student plus the mess."""
    rows = np.flatnonzero(present)
    m = rows.size
    columns: dict[str, np.ndarray] = {}
    question_text: list[str] = []
    import_ids: list[str] = []

    day = np.datetime64(_WAVE_DATES[wave] + "T08:00:00")
    start = day + rng.integers(0, 5 * 24 * 3600, size=m).astype("timedelta64[s]")
    duration = np.round(rng.lognormal(np.log(480), 0.35, size=m)).astype(int)
    end = start + duration.astype("timedelta64[s]")
    fmt = lambda t: np.datetime_as_string(t, unit="s").astype(object)  # noqa: E731
    student = students.iloc[rows]
    meta = {
        "StartDate": np.char.replace(fmt(start).astype(str), "T", " ").astype(object),
        "EndDate": np.char.replace(fmt(end).astype(str), "T", " ").astype(object),
        "Status": np.full(m, "IP Address", dtype=object),
        "IPAddress": np.array(
            [f"10.{a}.{b}.{c}" for a, b, c in rng.integers(1, 255, size=(m, 3))], dtype=object
        ),
        "Progress": np.full(m, "100", dtype=object),
        "Duration (in seconds)": duration.astype(str).astype(object),
        "Finished": np.full(m, "True", dtype=object),
        "RecordedDate": np.char.replace(fmt(end).astype(str), "T", " ").astype(object),
        "ResponseId": _response_ids(rng, m),
        "RecipientLastName": student["last_name"].to_numpy(dtype=object),
        "RecipientFirstName": student["first_name"].to_numpy(dtype=object),
        "RecipientEmail": student["email"].to_numpy(dtype=object),
        "ExternalReference": student["student_id"].to_numpy(dtype=object),
        "LocationLatitude": np.round(rng.uniform(40.0, 41.0, size=m), 4).astype(str).astype(object),
        "LocationLongitude": np.round(rng.uniform(-74.5, -73.5, size=m), 4)
        .astype(str)
        .astype(object),
        "DistributionChannel": np.full(m, "email", dtype=object),
        "UserLanguage": np.full(m, "EN", dtype=object),
    }
    for name, text, import_id in _METADATA:
        columns[name] = meta[name]
        question_text.append(text)
        import_ids.append(import_id)

    scales = [(qid, scale, *spec) for qid, (scale, spec) in enumerate(DEMO_SCALES.items(), 1)]
    if "loneliness_long" in items:
        scales.append((7, "loneliness_long", *LONG_FORM))
    for qid, scale, instrument_id, tag in scales:
        instrument = get_instrument(instrument_id)
        labels = _labels(instrument_id)
        codes = items[scale][rows]
        for pos, item in enumerate(instrument.items):
            name = f"{tag}_{item}"
            columns[name] = labels[codes[:, pos]]
            question_text.append(f"{instrument.stem} - {instrument.item_topics[item]}")
            import_ids.append(f"QID{qid}_{item}")
    columns["Q6"] = np.full(m, "", dtype=object)
    question_text.append("Is there anything else you would like to tell us?")
    import_ids.append("QID6_TEXT")
    columns["school"] = student["school"].to_numpy(dtype=object)
    columns["gender"] = student["gender"].to_numpy(dtype=object)
    columns["grade_level"] = student["grade_level"].astype(str).to_numpy(dtype=object)
    columns["mentoring"] = np.where(student["participant"], "Yes", "No").astype(object)
    columns["gpa"] = np.char.mod("%.2f", gpa_values[rows]).astype(object)
    for name in _EMBEDDED:
        question_text.append(name)
        import_ids.append(name)

    frame = pd.DataFrame(columns)
    item_cols = [c for c in frame.columns if c[:2] in {"Q1", "Q2", "Q3", "Q4", "Q5", "Q7"}]
    if mess:
        frame = _add_mess(rng, frame, item_cols, students.iloc[rows])
    # Order by start time, as Qualtrics exports are.
    frame = frame.iloc[np.argsort(frame["StartDate"].to_numpy(dtype=str), kind="stable")]
    frame = frame.reset_index(drop=True)
    frame.attrs["question_text"] = question_text
    frame.attrs["import_ids"] = import_ids
    return frame


def _response_ids(rng, m: int) -> np.ndarray:
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
    chars = alphabet[rng.integers(0, alphabet.size, size=(m, 15))]
    return np.char.add("R_", chars.view("<U15").ravel()).astype(object)


def _blank_after(frame: pd.DataFrame, rows: np.ndarray, item_cols: list[str], progress) -> None:
    """Blank the items a respondent did not reach: those after ``progress`` % of the survey."""
    stop = (len(item_cols) * np.asarray(progress) // 100)[:, None]
    reached = np.arange(len(item_cols))[None, :] < stop
    values = frame.loc[rows, item_cols].to_numpy()
    frame.loc[rows, item_cols] = np.where(reached, values, "")


def _add_mess(rng, frame: pd.DataFrame, item_cols: list[str], student: pd.DataFrame):
    """Skipped items, unfinished, duplicate, speeding, id-less, preview and test responses."""
    m = len(frame)
    frame = frame.copy()
    # Skipped items: 1.5% of cells left blank at random.
    values = frame[item_cols].to_numpy()
    frame[item_cols] = np.where(rng.random(values.shape) < 0.015, "", values)
    # Unfinished: 3% stopped part way; items after the stopping point are blank.
    unfinished = rng.random(m) < 0.03
    rows = np.flatnonzero(unfinished)
    progress = rng.integers(20, 96, size=rows.size)
    frame.loc[rows, "Progress"] = progress.astype(str)
    frame.loc[rows, "Finished"] = "False"
    _blank_after(frame, rows, item_cols, progress)
    # Speeders: 1% clicked through in under a minute, giving one answer to a whole scale.
    rows = np.flatnonzero(~unfinished & (rng.random(m) < 0.01))
    frame.loc[rows, "Duration (in seconds)"] = rng.integers(25, 60, size=rows.size).astype(str)
    for tag in sorted({c.split("_")[0] for c in item_cols}):
        scale_cols = [c for c in item_cols if c.startswith(tag + "_")]
        first = frame.loc[rows, scale_cols[0]].to_numpy()
        for col in scale_cols[1:]:
            frame.loc[rows, col] = first
    speeding = np.zeros(m, dtype=bool)
    speeding[rows] = True
    # A few records without an id (the link was forwarded).
    no_id = ~unfinished & ~speeding & (rng.random(m) < 0.003)
    frame.loc[no_id, "ExternalReference"] = ""
    frame.loc[no_id, ["RecipientLastName", "RecipientFirstName", "RecipientEmail"]] = ""
    frame.loc[no_id, "DistributionChannel"] = "anonymous"
    # Free text with identifying content in a few real responses.
    talkers = np.sort(rng.choice(m, size=max(1, m // 100), replace=False))
    frame.loc[talkers, "Q6"] = [
        f"My mentor {name} helped me a lot, call me on 555-01{k % 100:02d}"
        for k, name in enumerate(student["first_name"].to_numpy()[talkers])
    ]

    # Duplicates: 1.5% of students first started, abandoned, then came back and finished.
    rows = np.flatnonzero(~unfinished & ~no_id & (rng.random(m) < 0.015))
    restarts = frame.loc[rows].copy().reset_index(drop=True)
    restarts["StartDate"] = _shift_times(restarts["StartDate"], hours=-26)
    restarts["ResponseId"] = _response_ids(rng, rows.size)
    progress = rng.integers(15, 60, size=rows.size)
    restarts["Progress"] = progress.astype(str)
    restarts["Finished"] = "False"
    restarts["Q6"] = ""
    _blank_after(restarts, np.arange(rows.size), item_cols, progress)
    # Double submissions: 0.5% submitted a complete response twice, changing a few answers.
    rows = np.flatnonzero(~unfinished & ~no_id & ~speeding & (rng.random(m) < 0.005))
    resubmits = frame.loc[rows].copy().reset_index(drop=True)
    resubmits["StartDate"] = _shift_times(resubmits["StartDate"], hours=-2)
    resubmits["ResponseId"] = _response_ids(rng, rows.size)
    resubmits["Q6"] = ""
    restarts = pd.concat([restarts, resubmits], ignore_index=True)
    # Preview and test responses made while the survey was built, before it opened.
    trials = frame.loc[[0, 0, 0, 0, 0]].copy().reset_index(drop=True)
    trials["Status"] = ["Survey Preview"] * 3 + ["Survey Test"] * 2
    trials["StartDate"] = _shift_times(trials["StartDate"], hours=-96 + 2 * np.arange(5))
    trials["ResponseId"] = _response_ids(rng, 5)
    trials[["RecipientLastName", "RecipientFirstName", "RecipientEmail"]] = ""
    trials["ExternalReference"] = ["", "", "", "TEST", "TEST"]
    trials["DistributionChannel"] = ["preview"] * 3 + ["test"] * 2
    trials["Q6"] = "testing the survey - Ms Example"
    return pd.concat([frame, restarts, trials], ignore_index=True)


def _shift_times(stamps: pd.Series, hours) -> np.ndarray:
    moments = pd.to_datetime(stamps.to_numpy(dtype=str)) + pd.to_timedelta(hours, unit="h")
    return moments.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
