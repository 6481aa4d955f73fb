"""Synthetic data packages for benchmarks and scale tests: `python build.py synth N --out DIR [--seed S]`.

Every label says it is fictional: the drugs (Synthinib, Fictolimab), the studies, authors and journal do not
exist, and no number describes a real patient. The packages are shaped like real extractions so that every
stage does the work it does on real data:

* 2 or 3 arms per study; populations of three kinds: an overall population with two cohorts that form a
  disjoint set, unmatched/matched (propensity-score) populations, or a single overall population;
* every result table is filled: baseline (categorical, mean-SD, median-IQR and whole-population rows),
  survival medians with CIs, landmark rates, hazard ratios (unadjusted and adjusted) and between-arm
  tests, prognostic factors, CR/PR/SD/PD responses under two fictional criteria, binary outcomes, adverse
  events, subgroups and extraction notes;
* regimens come in families of four (Synthinib n alone, with Fictolimab, with Procedure X, with both) and each
  family has three comparisons (a parent and two children), so the number of comparisons grows with N
  while each comparison pools a few dozen studies at most (about 60 studies per family);
* a few deliberate inconsistencies (about one study in 40) raise consistency warnings of four kinds
  (baseline-sum, orr-n-mismatch, percent-mismatch, p-value-inconsistent), as real papers do; there are no
  errors: the package passes `python build.py validate` with zero errors.

The output is a pure function of (N, seed): the same arguments write the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from livingevidence.analysis.appraisal.tools import ROB_2, ROBINS_I

SKELETON = Path(__file__).resolve().parent.parent / "skeleton"
#: Studies per regimen family (each family has 4 regimens and 3 comparisons).
STUDIES_PER_FAMILY = 60
#: About one study in this many carries a deliberate consistency problem (a warning, never an error).
WARNING_EVERY = 40
SYNTH_NAME = "synthetic-living-evidence"
AE_TERMS = ("Any adverse event", "Fatigue", "Hypertension", "Diarrhoea", "Hand-foot skin reaction", "Rash")
FACTORS = (
    ("Performance status", "1-2", "0"),
    ("Organ function class", "B", "A"),
    ("Biomarker level", ">=400 units", "<400 units"),
    ("Vascular invasion", "present", "absent"),
)
#: The fictional response criteria; only the first is reported by every population.
CRITERIA = ("Criterion A", "Criterion B")
#: The synthetic topic's outcome vocabulary (outcomes.csv) and its extra labels: data, as for a real topic.
_BIN = ("binary", "", False, "RR", 6, "")
MID_REASON = "Fictional: GRADE's default threshold of a 25% relative change, for benchmarking."
OUTCOMES = (
    ("OS", "Overall survival", "OS", "overall survival", "time-to-event", "months", True, "HR", 1, ""),
    (
        "PFS",
        "Progression-free survival",
        "PFS",
        "progression-free survival",
        "time-to-event",
        "months",
        True,
        "HR",
        2,
        "",
    ),
    ("ORR", "Objective response", "ORR", "objective response", "binary", "", True, "RR", 3, "response:orr"),
    ("DCR", "Disease control", "DCR", "disease control", "binary", "", True, "RR", 4, "response:dcr"),
    ("AE", "Adverse events", "Adverse events", "adverse events", "binary", "", False, "RR", 5, "adverse_events"),
    ("treatment-discontinuation", "Treatment discontinuation", "Discontinuation", "treatment discontinuation", *_BIN),
    ("symptom-score", "Symptom score", "Symptoms", "symptom score", "continuous", "points", False, "MD", 7, ""),
)
EXTRA_LABELS = (
    ("interventions", "class", "checkpoint-inhibitor", "Checkpoint inhibitor (fictional class)"),
    ("interventions", "class", "kinase-inhibitor", "Kinase inhibitor (fictional class)"),
    ("interventions", "class", "procedure", "Procedure"),
    ("response", "criterion", "Criterion A", "Criterion A (fictional)"),
    ("response", "criterion", "Criterion B", "Criterion B (fictional)"),
    ("effects", "criterion", "Criterion A", "Criterion A (fictional)"),
    ("effects", "criterion", "Criterion B", "Criterion B (fictional)"),
    ("baseline", "characteristic", "ecog", "Performance status"),
    ("population_attributes", "attribute", "prior-fictolimab", "Prior Fictolimab (fictional)"),
    ("population_attributes", "value", "no", "no"),
    ("population_attributes", "value", "yes", "yes"),
)
FICTIONAL = "Fictional data generated for benchmarking; no real study, paper or patient."


@dataclass
class _Tables:
    """Rows per table, in the column order of the real schema."""

    columns: dict[str, list[str]]
    rows: dict[str, list[list[str]]] = field(default_factory=dict)

    def add(self, table_name: str, /, **values: object) -> None:
        """Append one row; unknown column names are a programming error."""
        table = table_name
        cols = self.columns[table]
        unknown = set(values) - set(cols)
        if unknown:
            raise KeyError(f"{table}: unknown columns {sorted(unknown)}")
        self.rows.setdefault(table, []).append([_cell(values.get(c)) for c in cols])


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}" if value.is_integer() else repr(round(value, 6))
    return str(value)


def _pct(k: int, n: int) -> float:
    """k/n as a percentage with one decimal, as papers print it."""
    return round(100 * k / n, 1) if n else 0.0


def _p_text(p: float) -> str:
    """A p-value as papers print it."""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _family_of(i: int, families: int) -> int:
    return i % families


def _labels(f: int) -> dict[str, tuple[str, str]]:
    """Regimen key -> (label, short label) of family f."""
    drug = f"Synthinib-{f:03d}"
    short = f"SYN{f:03d}"
    return {
        "base": (f"{drug} (fictional)", short),
        "pd1": (f"{drug} + Fictolimab (fictional)", f"{short}+FCT"),
        "proc": (f"Procedure X + {drug} (fictional)", f"PRX+{short}"),
        "procpd1": (f"Procedure X + {drug} + Fictolimab (fictional)", f"PRX+{short}+FCT"),
    }


def _rid(f: int, key: str) -> str:
    return f"f{f:03d}-{key}"


class _Generator:
    """Builds one package; all randomness comes from one seeded generator, consumed in a fixed order."""

    def __init__(self, n_studies: int, seed: int, columns: dict[str, list[str]]) -> None:
        self.n = n_studies
        self.seed = seed
        self.rng = random.Random(f"{seed}:{n_studies}")
        self.families = max(1, math.ceil(n_studies / STUDIES_PER_FAMILY))
        self.t = _Tables(columns)
        # True log hazard ratio per comparison family and regimen contrast.
        self.true_log_hr = {f: self.rng.gauss(-0.2, 0.15) for f in range(self.families)}
        self.warnings: dict[str, int] = {}

    # --- package-wide tables ----------------------------------------------------------------------------
    def shared(self) -> None:
        t = self.t
        self.vocabulary()
        t.add(
            "interventions",
            intervention_id="fictolimab",
            label="Fictolimab (fictional PD-1 inhibitor)",
            class_="checkpoint-inhibitor",
            note=FICTIONAL,
        )
        t.add("interventions", intervention_id="procedure-x", label="Procedure X", class_="procedure", note=FICTIONAL)
        for f in range(self.families):
            t.add(
                "interventions",
                intervention_id=f"synthinib-{f:03d}",
                label=f"Synthinib-{f:03d} (fictional TKI)",
                class_="kinase-inhibitor",
                note=FICTIONAL,
            )
        for f in range(self.families):
            labels = _labels(f)
            components = {
                "base": ["synth"],
                "pd1": ["synth", "fictolimab"],
                "proc": ["procedure-x", "synth"],
                "procpd1": ["procedure-x", "synth", "fictolimab"],
            }
            for key, (label, short) in labels.items():
                t.add("regimens", regimen_id=_rid(f, key), label=label, short_label=short, note=FICTIONAL)
                for c in components[key]:
                    iid = f"synthinib-{f:03d}" if c == "synth" else c
                    t.add("regimen_components", regimen_id=_rid(f, key), intervention_id=iid)
            drug = f"Synthinib-{f:03d}"
            parent = f"f{f:03d}-add-fictolimab"
            t.add(
                "comparisons",
                comparison_id=parent,
                subgroup_by="prior-fictolimab",
                headline_outcomes="OS;PFS",
                title=f"Adding Fictolimab to {drug}-based therapy (fictional)",
                question=f"Does adding Fictolimab to {drug}, with or without Procedure X, improve survival and "
                "response? (fictional question for benchmarking)",
                order=3 * f + 1,
                note="Pools the two narrower comparisons below.",
            )
            t.add(
                "comparisons",
                comparison_id=f"f{f:03d}-pd1-vs-base",
                title=f"{drug} + Fictolimab vs {drug} (fictional)",
                question=f"Does Fictolimab added to {drug} help? (fictional)",
                parent_comparison_id=parent,
                order=3 * f + 2,
            )
            t.add(
                "comparisons",
                comparison_id=f"f{f:03d}-procpd1-vs-proc",
                title=f"Procedure X + {drug} + Fictolimab vs Procedure X + {drug} (fictional)",
                question=f"With Procedure X and {drug}, does adding Fictolimab help? (fictional)",
                parent_comparison_id=parent,
                order=3 * f + 3,
            )
            for cid, i_key, c_key in (
                (parent, "pd1", "base"),
                (parent, "procpd1", "proc"),
                (f"f{f:03d}-pd1-vs-base", "pd1", "base"),
                (f"f{f:03d}-procpd1-vs-proc", "procpd1", "proc"),
            ):
                t.add(
                    "comparison_pairs",
                    comparison_id=cid,
                    intervention_regimen_id=_rid(f, i_key),
                    control_regimen_id=_rid(f, c_key),
                )
            if f % 3 == 0:
                rating = ("low", "moderate", "very-low")[f % 9 // 3]
                t.add(
                    "certainty",
                    comparison_id=parent,
                    outcome="OS",
                    decision="confirmed",
                    proposed_rating=rating,
                    rating=rating,
                    reason="Fictional decision: observational studies, imprecision.",
                    assessed_by="synthetic generator",
                    assessed_on="2026-01-15",
                )

    def vocabulary(self) -> None:
        """The topic as data: the outcome vocabulary and the labels of the codes the generator uses."""
        t = self.t
        for oid, label, short, phrase, kind, unit, better, measure, order, counts_from in OUTCOMES:
            t.add(
                "outcomes",
                outcome_id=oid,
                label=label,
                short_label=short,
                phrase=phrase,
                kind=kind,
                unit=unit or None,
                higher_is_better=better,
                default_measure=measure,
                mid=1.25 if measure != "MD" else 5.0,
                mid_reason=MID_REASON,
                order=order,
                counts_from=counts_from or None,
                summary_terms=AE_TERMS[0] if counts_from == "adverse_events" else None,
                description=f"{label} (fictional definition).",
            )
        for table, field_name, value, label, pool_as in _skeleton_labels():
            t.add("labels", table=table, field=field_name, value=value, label=label, pool_as=pool_as or None)
        for table, field_name, value, label in EXTRA_LABELS:
            t.add("labels", table=table, field=field_name, value=value, label=label)
        t.add("glossary", term="Procedure X", definition="A fictional procedure of the synthetic topic.")
        t.add("glossary", term="Criterion A", definition="A fictional response criterion of the synthetic topic.")

    def risk_of_bias(self, sid: str, rct: bool, worst: str) -> None:
        """A fictional assessment with the tool of the design: the first domain at `worst`, the others low."""
        tool = ROB_2 if rct else ROBINS_I
        first = {"moderate": "some-concerns", "serious": "high", "critical": "high"}[worst] if rct else worst
        judgements = [first] + ["low"] * (len(tool.domains) - 1)
        version = next(iter(tool.versions))
        rows = [(d.id, j) for d, j in zip(tool.domains, judgements, strict=True)]
        rows.append(("overall", tool.overall(judgements)))
        for domain, judgement in rows:
            self.t.add(
                "risk_of_bias",
                study_id=sid,
                tool=tool.id,
                tool_version=version,
                domain=domain,
                judgement=judgement,
                support="Fictional judgement generated for benchmarking.",
                location="Synthetic methods section",
                assessed_by="synthetic generator",
                assessed_on="2026-01-15",
            )

    # --- one study ------------------------------------------------------------------------------------
    def study(self, i: int) -> None:
        rng, t = self.rng, self.t
        sid = f"synth-{i:05d}"
        f = _family_of(i, self.families)
        slot = (i // self.families) % 10
        arm_keys = (
            ["pd1", "base"]
            if slot < 4
            else ["procpd1", "proc"]
            if slot < 7
            else ["pd1", "base", "proc"]
            if slot < 9
            else ["procpd1", "proc", "pd1"]
        )
        rct = i % 7 == 0
        pop_kind = "cohorts" if i % 3 == 0 else ("overall" if rct or i % 3 == 2 else "matched")
        warn = rng.random() < 1 / WARNING_EVERY
        warn_kind = rng.randrange(4) if warn else -1
        year = rng.randint(2019, 2025)
        pub = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        start_y = year - rng.randint(3, 5)
        t.add(
            "studies",
            study_id=sid,
            label=f"Synthetic study {i:05d}",
            title=f"Synthetic study {i:05d}: a fictional {'trial' if rct else 'cohort'} generated for benchmarking",
            authors="A. Fictional; B. Imaginary; C. Synthetic",
            journal="Journal of Synthetic Benchmarks (fictional)",
            year=year,
            publication_date=pub,
            pages=f"{i % 900 + 1}-{i % 900 + 9}",
            design="rct" if rct else rng.choice(("retrospective-cohort", "prospective-cohort")),
            centres=rng.randint(1, 12),
            country="Nowhereland (fictional)",
            enrolment_start=f"{start_y}-{rng.randint(1, 12):02d}",
            enrolment_end=f"{start_y + 1}-{rng.randint(1, 12):02d}",
            follow_up_end=f"{start_y + 2}-{rng.randint(1, 12):02d}-15",
            follow_up_median_months=round(rng.uniform(8, 30), 1),
            setting="Fictional patients with advanced disease after first-line therapy; generated for benchmarks.",
            matching="psm" if pop_kind == "matched" else "none",
            source_kind="full-text",
            source_file=f"synthetic/{sid}.txt",
            extracted_by="synthetic generator",
            extraction_date="2026-01-15",
            note=FICTIONAL,
        )
        self.risk_of_bias(sid, rct, rng.choice(("moderate", "serious", "critical")))
        if i % 9 == 0:  # a fictional indirectness concern about the narrower comparison the study is in
            pair = "pd1-vs-base" if "base" in arm_keys else "procpd1-vs-proc"
            t.add(
                "indirectness",
                comparison_id=f"f{f:03d}-{pair}",
                study_id=sid,
                concern="population",
                support="Fictional concern generated for benchmarking: an earlier line of therapy.",
                location="Synthetic methods section",
                assessed_by="synthetic generator",
                assessed_on="2026-01-15",
            )
        arms = []
        labels = _labels(f)
        for k, key in enumerate(arm_keys):
            aid = f"{sid}-a{k + 1}"
            arms.append(aid)
            t.add(
                "arms",
                arm_id=aid,
                study_id=sid,
                label=labels[key][1],
                regimen_id=_rid(f, key),
                description=f"{labels[key][0]}, doses as in the fictional protocol.",
                source="Methods (fictional)",
            )
        # Populations and their arm sizes.
        n_all = {a: rng.randint(30, 220) for a in arms}
        pops: list[tuple[str, dict[str, int]]] = []  # (population_id, n per arm); first = used for most rows
        if pop_kind == "cohorts":
            overall = f"{sid}-overall"
            self._population(sid, overall, "All patients", "overall", True, None, None)
            c1n = {a: max(5, int(n * rng.uniform(0.3, 0.7))) for a, n in n_all.items()}
            c2n = {a: n_all[a] - c1n[a] for a in arms}
            self._population(sid, f"{sid}-c1", "Cohort 1 (fictional)", "cohort", False, "prior-therapy", overall)
            self._population(sid, f"{sid}-c2", "Cohort 2 (fictional)", "cohort", False, "prior-therapy", overall)
            for pid, level in ((f"{sid}-c1", "no"), (f"{sid}-c2", "yes")):
                self.t.add(
                    "population_attributes",
                    population_id=pid,
                    attribute="prior-fictolimab",
                    value=level,
                    source="Methods (fictional)",
                )
            pops = [(overall, n_all), (f"{sid}-c1", c1n), (f"{sid}-c2", c2n)]
        elif pop_kind == "matched":
            unmatched = f"{sid}-unmatched"
            self._population(sid, unmatched, "Before matching", "unmatched", False, None, None)
            pairs = max(10, int(min(n_all.values()) * rng.uniform(0.6, 0.9)))
            matched_n = dict.fromkeys(arms, pairs)
            self._population(sid, f"{sid}-matched", "After matching", "matched", True, None, unmatched)
            pops = [(f"{sid}-matched", matched_n), (unmatched, n_all)]
        else:
            self._population(sid, f"{sid}-overall", "All patients", "overall", True, None, None)
            pops = [(f"{sid}-overall", n_all)]
        for pid, sizes in pops:
            for a in arms:
                t.add("population_arms", population_id=pid, arm_id=a, n=sizes[a], source="Table 1 (fictional)")
        primary, primary_n = pops[0]
        note_id = f"{sid}-note-1"
        t.add(
            "extraction_notes",
            note_id=note_id,
            study_id=sid,
            topic="Fictional data",
            note=FICTIONAL,
            source="Generator",
        )
        if warn:
            self.warnings[sid] = warn_kind
            t.add(
                "extraction_notes",
                note_id=f"{sid}-note-2",
                study_id=sid,
                topic="Deliberate inconsistency",
                note="One figure of this fictional study is deliberately inconsistent, to exercise the data checks.",
                source="Generator",
            )
        # Baseline: the first two populations, one column per arm, plus a whole-population row.
        for pid, sizes in pops[:2]:
            self._baseline(pid, sizes, bad_sum=warn_kind == 0 and pid == primary)
        # Results for every population whose data may be pooled (overall, cohorts, matched/unmatched).
        log_hr = self.true_log_hr[f] + rng.gauss(0, 0.12)
        for k, (pid, sizes) in enumerate(pops):
            self._survival(pid, arms, sizes, log_hr)
            self._effects_hr(pid, arms, sizes, log_hr, adjusted=k == 0)
            self._response(
                pid,
                arms,
                sizes,
                orr_warn=warn_kind == 1 and k == 0,
                p_warn=warn_kind == 3 and k == 0,
                all_criteria=k == 0,
            )
        self._landmarks(primary, arms)
        self._prognostic(primary, primary_n)
        self._binary(primary, arms, primary_n)
        self._continuous(primary, arms, primary_n)
        self._adverse_events(primary, arms, primary_n, bad_percent=warn_kind == 2, note_id=note_id)
        self._subgroups(sid, primary, arms)

    def _population(
        self, sid: str, pid: str, label: str, kind: str, primary: bool, dset: str | None, parent: str | None
    ) -> None:
        self.t.add(
            "populations",
            population_id=pid,
            study_id=sid,
            label=label,
            kind=kind,
            primary=primary,
            disjoint_set=dset,
            parent_population_id=parent,
            description=f"{label}; fictional.",
            source="Table 1 (fictional)",
        )

    def _baseline(self, pid: str, sizes: dict[str, int], bad_sum: bool) -> None:
        rng, t = self.rng, self.t
        p = _p_text(rng.uniform(0.05, 0.95))
        for a in sizes:
            t.add(
                "baseline",
                population_id=pid,
                arm_id=a,
                characteristic="age",
                category="all",
                statistic="mean-sd",
                value=round(rng.uniform(50, 65), 1),
                spread_low=round(rng.uniform(6, 12), 1),
                p_value=p,
                source="Table 1 (fictional)",
                note="Age in years.",
            )
        for characteristic, cats in (
            ("sex", ("male", "female")),
            ("organ-function", ("A", "B")),
            ("ecog", ("0", "1-2")),
        ):
            p = _p_text(rng.uniform(0.05, 0.95))
            for a, n in sizes.items():
                first = int(n * rng.uniform(0.55, 0.85))
                counts = (first, n - first - (1 if bad_sum and characteristic == "sex" else 0))
                for cat, count in zip(cats, counts, strict=True):
                    t.add(
                        "baseline",
                        population_id=pid,
                        arm_id=a,
                        characteristic=characteristic,
                        category=cat,
                        count=count,
                        percent=_pct(count, n),
                        p_value=p,
                        source="Table 1 (fictional)",
                    )
        p = _p_text(rng.uniform(0.05, 0.95))
        for a in sizes:
            median = round(rng.uniform(20, 400), 1)
            t.add(
                "baseline",
                population_id=pid,
                arm_id=a,
                characteristic="biomarker",
                category="all",
                statistic="median-iqr",
                value=median,
                spread_low=round(median * rng.uniform(0.2, 0.8), 1),
                spread_high=round(median * rng.uniform(1.2, 3.0), 1),
                p_value=p,
                source="Table 1 (fictional)",
                note="Fictional units.",
            )
        total = sum(sizes.values())
        yes = int(total * rng.uniform(0.5, 0.9))
        t.add(
            "baseline",
            population_id=pid,
            characteristic="comorbidity",
            category="yes",
            count=yes,
            percent=_pct(yes, total),
            source="Table 1 (fictional)",
        )

    def _survival(self, pid: str, arms: list[str], sizes: dict[str, int], log_hr: float) -> None:
        rng = self.rng
        for outcome, base in (("OS", rng.uniform(9, 16)), ("PFS", rng.uniform(3, 7))):
            for k, a in enumerate(arms):
                median = round(base * (math.exp(-log_hr) if k == 0 else 1.0) * rng.uniform(0.9, 1.1), 1)
                half = max(0.3, median * 4 / math.sqrt(sizes[a]))
                self.t.add(
                    "survival",
                    population_id=pid,
                    arm_id=a,
                    outcome=outcome,
                    median_months=median,
                    ci_low=round(max(0.1, median - half * rng.uniform(0.7, 1.0)), 1),
                    ci_high=round(median + half * rng.uniform(1.0, 1.4), 1),
                    ci_kind="95% CI",
                    source="Figure 2 (fictional)",
                )

    def _hr(self, log_hr: float, n: int) -> tuple[float, float, float]:
        se = 2 / math.sqrt(max(n, 8))
        est = round(math.exp(log_hr), 2)
        low = round(math.exp(log_hr - 1.96 * se), 2)
        high = round(math.exp(log_hr + 1.96 * se), 2)
        low = max(0.01, min(low, est))
        return est, low, max(high, est)

    def _effects_hr(self, pid: str, arms: list[str], sizes: dict[str, int], log_hr: float, adjusted: bool) -> None:
        rng = self.rng
        i_arm, c_arm = arms[0], arms[1]
        n = sizes[i_arm] + sizes[c_arm]
        analyses = ("univariable", "multivariable") if adjusted else ("univariable",)
        for outcome, shift in (("OS", 0.0), ("PFS", -0.1)):
            for analysis in analyses:
                est, low, high = self._hr(log_hr + shift + rng.gauss(0, 0.05), n)
                z = abs(math.log(est)) / max((math.log(high) - math.log(low)) / 3.92, 1e-6)
                self.t.add(
                    "effects",
                    population_id=pid,
                    outcome=outcome,
                    criterion="none",
                    intervention_arm_id=i_arm,
                    control_arm_id=c_arm,
                    measure="HR",
                    analysis=analysis,
                    estimate=est,
                    ci_low=low,
                    ci_high=high,
                    p_value=_p_text(math.erfc(z / math.sqrt(2))),
                    model="Cox" if analysis == "univariable" else "Cox, adjusted for fictional covariates",
                    source="Table 3 (fictional)",
                )
        if len(arms) == 3:  # the third arm against the control arm: an unadjusted test only
            self.t.add(
                "effects",
                population_id=pid,
                outcome="OS",
                criterion="none",
                intervention_arm_id=arms[2],
                control_arm_id=c_arm,
                measure="test",
                analysis="univariable",
                p_value=_p_text(rng.uniform(0.01, 0.9)),
                model="log-rank",
                source="Figure 2 (fictional)",
            )

    def _response(
        self,
        pid: str,
        arms: list[str],
        sizes: dict[str, int],
        orr_warn: bool,
        p_warn: bool,
        all_criteria: bool,
    ) -> None:
        from livingevidence.analysis.effects import two_by_two_p_values

        rng = self.rng
        for criterion in CRITERIA if all_criteria else CRITERIA[:1]:
            counts: dict[str, tuple[int, int]] = {}
            for k, a in enumerate(arms):
                n_eval = max(1, sizes[a] - rng.randint(0, 3))
                lift = 1.4 if k == 0 else 1.0
                cr = int(n_eval * rng.uniform(0.0, 0.06) * lift)
                pr = int(n_eval * rng.uniform(0.08, 0.25) * lift)
                sd = int(n_eval * rng.uniform(0.25, 0.4))
                pd_ = n_eval - cr - pr - sd
                orr, dcr = cr + pr, cr + pr + sd
                orr_n = orr + 1 if orr_warn and k == 0 and orr + 1 <= dcr else orr
                self.t.add(
                    "response",
                    population_id=pid,
                    arm_id=a,
                    criterion=criterion,
                    n_evaluable=n_eval,
                    cr=cr,
                    pr=pr,
                    sd=sd,
                    pd=pd_,
                    orr_n=orr_n,
                    orr_percent=_pct(orr_n, n_eval),
                    dcr_n=dcr,
                    dcr_percent=_pct(dcr, n_eval),
                    source="Table 2 (fictional)",
                )
                counts[a] = (orr_n, n_eval)  # the printed count, which the p-value check uses
            (a_, n1), (c_, n2) = counts[arms[0]], counts[arms[1]]
            result = two_by_two_p_values(a_, n1, c_, n2)
            p = result.chi2_p if result.chi2_p is not None else result.fisher_p
            printed = _p_text(p)
            if p_warn and criterion == CRITERIA[0]:
                printed = "0.999" if p < 0.5 else "<0.001"
            self.t.add(
                "effects",
                population_id=pid,
                outcome="ORR",
                criterion=criterion,
                intervention_arm_id=arms[0],
                control_arm_id=arms[1],
                measure="test",
                analysis="univariable",
                p_value=printed,
                model="chi-square",
                source="Table 2 (fictional)",
            )

    def _landmarks(self, pid: str, arms: list[str]) -> None:
        rng = self.rng
        for a in arms:
            rate = round(rng.uniform(30, 70), 1)
            self.t.add(
                "landmarks",
                population_id=pid,
                arm_id=a,
                outcome="OS",
                time_months=12,
                rate_percent=rate,
                ci_low=round(rate - rng.uniform(5, 12), 1),
                ci_high=round(rate + rng.uniform(5, 12), 1),
                source="Figure 2 (fictional)",
            )

    def _prognostic(self, pid: str, sizes: dict[str, int]) -> None:
        rng = self.rng
        n = sum(sizes.values())
        for factor, level, ref in FACTORS:
            log_hr = rng.gauss(0.3, 0.2)
            for analysis in ("univariable", "multivariable"):
                est, low, high = self._hr(log_hr + rng.gauss(0, 0.05), n)
                self.t.add(
                    "prognostic_factors",
                    population_id=pid,
                    outcome="OS",
                    factor=factor,
                    level=level,
                    reference_level=ref,
                    n=int(n * rng.uniform(0.2, 0.5)),
                    analysis=analysis,
                    hr=est,
                    ci_low=low,
                    ci_high=high,
                    p_value=_p_text(rng.uniform(0.0005, 0.5)),
                    source="Table 4 (fictional)",
                )

    def _binary(self, pid: str, arms: list[str], sizes: dict[str, int]) -> None:
        rng = self.rng
        p = _p_text(rng.uniform(0.01, 0.9))
        for a in arms:
            n = sizes[a]
            events = int(n * rng.uniform(0.05, 0.3))
            self.t.add(
                "binary_outcomes",
                population_id=pid,
                arm_id=a,
                outcome="treatment-discontinuation",
                events=events,
                n=n,
                percent=_pct(events, n),
                p_value=p,
                source="Table 5 (fictional)",
            )

    def _continuous(self, pid: str, arms: list[str], sizes: dict[str, int]) -> None:
        """A symptom score (lower is better) with mean, SD and n, and a median with IQR."""
        rng = self.rng
        for k, a in enumerate(arms):
            mean = round(rng.uniform(30, 50) - (4 if k == 0 else 0), 1)
            sd = round(rng.uniform(8, 16), 1)
            self.t.add(
                "continuous_outcomes",
                population_id=pid,
                arm_id=a,
                outcome="symptom-score",
                criterion="none",
                n=sizes[a],
                mean=mean,
                sd=sd,
                median=round(mean - rng.uniform(0, 2), 1),
                iqr_low=round(mean - sd * 0.67, 1),
                iqr_high=round(mean + sd * 0.67, 1),
                source="Table 5 (fictional)",
            )

    def _adverse_events(
        self, pid: str, arms: list[str], sizes: dict[str, int], bad_percent: bool, note_id: str
    ) -> None:
        rng = self.rng
        for t_i, term in enumerate(AE_TERMS):
            base = rng.uniform(0.6, 0.9) if t_i == 0 else rng.uniform(0.05, 0.4)
            for grade, factor in (("any", 1.0), ("3-4", rng.uniform(0.15, 0.35))):
                p = _p_text(rng.uniform(0.01, 0.9))
                for k, a in enumerate(arms):
                    n = sizes[a]
                    events = int(n * base * factor * (1.15 if k == 0 else 1.0))
                    events = min(events, n)
                    percent = _pct(events, n)
                    bad = bad_percent and t_i == 1 and grade == "any" and k == 0
                    if bad:
                        percent = round(min(100.0, percent + 2.0) if percent <= 98 else percent - 2.0, 1)
                    self.t.add(
                        "adverse_events",
                        population_id=pid,
                        arm_id=a,
                        category="treatment-related",
                        term=term,
                        grade=grade,
                        events=events,
                        n_at_risk=n,
                        percent=percent,
                        p_value=p,
                        source="Table 6 (fictional)",
                        note=f"Deliberately inconsistent; see extraction note {note_id}." if bad else None,
                    )

    def _subgroups(self, sid: str, pid: str, arms: list[str]) -> None:
        rng = self.rng
        for a in arms:
            p = _p_text(rng.uniform(0.01, 0.9))
            for k, level in enumerate(("<65 years", ">=65 years")):
                median = round(rng.uniform(6, 18), 1)
                self.t.add(
                    "subgroups",
                    subgroup_id=f"{a}-age-{k + 1}",
                    study_id=sid,
                    population_id=pid,
                    arm_id=a,
                    variable="Age group",
                    level=level,
                    outcome="OS",
                    median_months=median,
                    ci_low=round(median * rng.uniform(0.6, 0.9), 1),
                    ci_high=round(median * rng.uniform(1.1, 1.5), 1),
                    p_value=p,
                    source="Figure 4 (fictional)",
                )


def _skeleton_labels() -> list[list[str]]:
    """The generic labels every new project starts with (skeleton/labels.csv)."""
    with (SKELETON / "labels.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))[1:]


def _descriptor(n_studies: int, seed: int) -> dict:
    """A descriptor with every table the generator reads (the skeleton's schemas), described as synthetic."""
    tables = json.loads((SKELETON / "tables.json").read_text(encoding="utf-8"))
    return {
        "profile": "tabular-data-package",
        "name": f"{SYNTH_NAME}-{n_studies}",
        "title": f"Synthetic living evidence package, {n_studies} fictional studies (seed {seed})",
        "description": f"A fictional data package generated by `python build.py synth {n_studies} --seed {seed}` "
        "for benchmarks and scale tests. No study, drug, author or number in it is real.",
        "version": "1.0.0",
        "created": "2026-01-15T00:00:00Z",
        "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}],
        "contributors": [{"title": "Synthetic generator", "role": "author"}],
        "keywords": ["synthetic", "fictional", "benchmark"],
        "topic": {
            "title": f"Synthetic summary of {n_studies} fictional studies",
            "description": "A fictional topic for benchmarks: Synthinib, Fictolimab and Procedure X do not exist.",
            "scope": {"population": "Fictional patients with advanced disease after first-line therapy"},
            "maintainers": ["Synthetic generator"],
        },
        "analysis": {"tau2_method": "REML", "ci_method": "hksj-adhoc", "pi_type": "metafor"},
        "resources": list(tables.values()),
    }


def generate(n_studies: int, seed: int = 1) -> dict[str, str]:
    """The package as {file name: text}: datapackage.json and one CSV per resource."""
    if n_studies < 1:
        raise ValueError("a synthetic package needs at least one study")
    descriptor = _descriptor(n_studies, seed)
    columns: dict[str, list[str]] = {}
    for r in descriptor["resources"]:
        columns[r["name"]] = [f["name"] if f["name"] != "class" else "class_" for f in r["schema"]["fields"]]
    gen = _Generator(n_studies, seed, columns)
    gen.shared()
    for i in range(1, n_studies + 1):
        gen.study(i)
    files = {"datapackage.json": json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"}
    for r in descriptor["resources"]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([f["name"] for f in r["schema"]["fields"]])
        writer.writerows(gen.t.rows.get(r["name"], []))
        files[r["path"]] = out.getvalue()
    return files


def write_package(n_studies: int, out: Path, seed: int = 1) -> Path:
    """Write a synthetic package into `out` (created; files of the same names replaced) and return it."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in generate(n_studies, seed).items():
        target = out / name
        data = text.encode("utf-8")
        if not (target.is_file() and target.read_bytes() == data):
            target.write_bytes(data)
    return out


def run_synth(n_studies: int, out: Path, seed: int = 1) -> int:
    """`build.py synth N --out DIR [--seed S]`: exit 0, or 2 for a bad N."""
    import sys

    if n_studies < 1:
        print("synth: N must be at least 1", file=sys.stderr)
        return 2
    write_package(n_studies, out, seed)
    print(f"wrote a synthetic package of {n_studies} fictional studies (seed {seed}) into {out}")
    return 0
