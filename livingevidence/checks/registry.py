"""Every rule the validator can report: id, layer, severity, what it checks and the general hint.

The registry is the single list of rule ids. Checks create problems through :func:`problem`, which looks
the rule up here, so a check cannot emit an id that is not documented. Pages generate the public
"data checks" documentation from :data:`RULES`.

Layers:

1. structure: the Frictionless data package (descriptor, files, encoding, CSV syntax, header, types,
   constraints, keys); errors.
2. meaning: numbers and links that cannot be right whatever the paper says; errors.
3. consistency: figures a paper printed that do not agree with its own counts; warnings, shown on the
   public data checks page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from livingevidence.report import Problem, Severity

__all__ = ["MAX_PROBLEMS_PER_RULE", "RULES", "ProblemList", "Rule", "problem"]


@dataclass(frozen=True)
class Rule:
    """One documented rule."""

    id: str
    layer: int
    severity: Severity
    description: str
    hint: str


def _rules(layer: int, severity: Severity, *items: tuple[str, str, str]) -> list[Rule]:
    return [Rule(id=i, layer=layer, severity=severity, description=d, hint=h) for i, d, h in items]


_STRUCTURE = _rules(
    1,
    "error",
    (
        "package-missing",
        "The package path given does not exist.",
        "pass a data package directory or its datapackage.json with --package",
    ),
    (
        "descriptor-missing",
        "The package directory has no datapackage.json.",
        "add datapackage.json to the directory, or pass the right directory with --package",
    ),
    (
        "descriptor-json",
        "datapackage.json is not valid UTF-8 JSON.",
        "fix the JSON syntax at the line shown (a missing comma or quote, or a trailing comma)",
    ),
    (
        "descriptor-invalid",
        "datapackage.json is valid JSON but not a valid data package descriptor (resources, names, paths).",
        "compare with the Data Package specification and with the resource entries of the other tables",
    ),
    (
        "resource-missing",
        "A table the site needs is not declared in datapackage.json.",
        "restore the table's resource entry (name, path and schema) in datapackage.json",
    ),
    (
        "schema-invalid",
        "A table schema is not a valid Table Schema, or its keys point at fields or tables that do not exist.",
        "fix the schema in datapackage.json; field types, constraints and keys must follow Table Schema",
    ),
    (
        "file-missing",
        "The CSV file of a declared table does not exist.",
        "create the file with the header row, or fix the resource path in datapackage.json",
    ),
    (
        "file-unreadable",
        "The CSV file of a declared table cannot be read.",
        "check that the path names a readable file, not a directory",
    ),
    (
        "empty-file",
        "The CSV file is empty: it has no header row.",
        "write the header row (the field names, comma-separated) on line 1",
    ),
    (
        "encoding",
        "The file is not UTF-8 text (e.g. saved as Latin-1/Windows-1252, or a binary file).",
        "save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8'); retype the characters shown",
    ),
    (
        "bom",
        "The file starts with a byte-order mark (BOM), which becomes part of the first field name.",
        "save the file as UTF-8 without BOM",
    ),
    (
        "csv-syntax",
        "The file is not valid CSV, e.g. a quoted cell is never closed.",
        'close the quote of the cell that starts on the line shown; write a quote inside a quoted cell as ""',
    ),
    ("blank-label", "A header cell is empty.", "name the column after its field in the schema, or delete it"),
    ("duplicate-label", "Two header cells have the same name.", "rename or remove the duplicate column"),
    (
        "extra-label",
        "The header has more columns than the schema has fields.",
        "remove the extra column, or declare the field in the schema",
    ),
    (
        "missing-label",
        "The header has fewer columns than the schema has fields.",
        "add the missing column to the header and a cell to every row",
    ),
    (
        "incorrect-label",
        "A header cell does not match the schema's field name at that position.",
        "write the header exactly as the schema's field names, in the schema's order",
    ),
    ("blank-row", "A row is empty.", "delete the empty line"),
    (
        "extra-cell",
        "A row has more cells than the header.",
        "remove the extra cell, or quote a cell that contains a comma",
    ),
    (
        "missing-cell",
        "A row has fewer cells than the header.",
        "add the missing cells; leave a cell empty (two commas) when the value is unknown",
    ),
    (
        "type",
        "A cell cannot be read as the field's type (integer, number, date, ...).",
        "write the value in the field's type; leave the cell empty when the value is not reported",
    ),
    ("required", "A required cell is empty.", "fill in the value"),
    ("enum", "A cell is not one of the field's allowed values.", "use one of the allowed values"),
    ("pattern", "A cell does not match the field's pattern.", "write the value in the documented form"),
    ("minimum", "A number is below the field's minimum.", "check the value against the source"),
    ("maximum", "A number is above the field's maximum.", "check the value against the source"),
    ("exclusive-minimum", "A number is not above the field's exclusive minimum.", "check the value against the source"),
    ("exclusive-maximum", "A number is not below the field's exclusive maximum.", "check the value against the source"),
    ("min-length", "A text is shorter than the field's minimum length.", "complete the text"),
    ("max-length", "A text is longer than the field's maximum length.", "shorten the text"),
    ("unique", "A value that must be unique occurs twice.", "remove the duplicate row or change the value"),
    (
        "primary-key",
        "Two rows have the same primary key.",
        "remove the duplicate row, or fix the key so that each row has its own",
    ),
    (
        "foreign-key",
        "A cell refers to a row that does not exist in another table.",
        "add the referenced row to the other table, or fix the id",
    ),
    (
        "too-large",
        "A file, a cell or the descriptor's nesting is beyond the validator's limits (docs/contribute.md lists "
        "them), which keep validation within bounded time and memory.",
        "split or shorten the data so that it fits the limits in docs/contribute.md",
    ),
    (
        "control-character",
        "Text contains an invisible control character (a C0 or C1 control other than tab and line breaks, or a "
        "bidirectional override that displays the text around it reversed).",
        "delete the character: retype the text around the position shown",
    ),
    (
        "internal-error",
        "A check failed unexpectedly; the data may still be fine.",
        "report this as a bug in the validator, with the data package that triggers it",
    ),
)

_MEANING = _rules(
    2,
    "error",
    (
        "response-sum",
        "CR + PR + SD + PD equals n_evaluable when all four are given.",
        "check the four counts and n_evaluable against the source table",
    ),
    (
        "response-count-exceeds-n",
        "No response count (CR, PR, SD, PD, their sum, ORR n, DCR n) exceeds n_evaluable.",
        "check the counts and n_evaluable against the source table",
    ),
    (
        "orr-above-dcr",
        "The ORR (CR+PR) is not above the DCR (CR+PR+SD), in counts and in percent.",
        "check whether ORR and DCR were swapped",
    ),
    (
        "ae-events-exceed-n",
        "Adverse-event events do not exceed n_at_risk.",
        "check events and n_at_risk against the source table",
    ),
    ("binary-events-exceed-n", "Binary-outcome events do not exceed n.", "check events and n against the source"),
    (
        "baseline-count-exceeds-n",
        "A baseline count does not exceed the arm's n in that population (the "
        "population's n for a whole-population row).",
        "check the count, the population and the arm against the source table",
    ),
    (
        "n-exceeds-arm-n",
        "n_evaluable, n_at_risk and a binary outcome's n do not exceed the arm's n in the "
        "population; a prognostic factor's n does not exceed the population's n.",
        "check the denominator and the population against the source",
    ),
    (
        "ci-order",
        "The estimate lies within its confidence interval (effects, prognostic factors, "
        "survival medians, landmark rates, subgroup medians).",
        "check the estimate and the CI limits against the source; the limits may belong to another row",
    ),
    (
        "ci-inverted",
        "The lower confidence limit is not above the upper one.",
        "check the order of the CI limits in the source table",
    ),
    (
        "effect-measure",
        "A 'test' row has a p-value and no estimate or CI; an HR/OR/RR row has an estimate.",
        "use measure 'test' for a p-value without an effect estimate, HR/OR/RR when an estimate is printed",
    ),
    (
        "effect-criterion",
        "Effects of an outcome counted from response.csv name its response criterion; other outcomes do not use one.",
        "set criterion to the response criterion of the counts (as in response.csv), or to 'none' for other outcomes",
    ),
    ("effect-same-arm", "An effect compares two different arms.", "fix intervention_arm_id or control_arm_id"),
    (
        "arm-study",
        "An arm (and a subgroup's population) belongs to the study of the row's population "
        "(or of the subgroup's study).",
        "use an arm of the same study, or fix the population",
    ),
    (
        "arm-population",
        "An arm used with a population is listed for that population in population_arms.csv.",
        "add the arm's n for this population to population_arms.csv, or fix the population/arm",
    ),
    ("parent-study", "A population's parent population belongs to the same study.", "fix parent_population_id"),
    (
        "parent-n",
        "A population's arms are in its parent population, with n not above the parent's n.",
        "check the n in population_arms.csv and the parent population",
    ),
    (
        "parent-cycle",
        "Parents (of populations, of comparisons) do not form a cycle.",
        "fix the parent id so that the chain ends at a population/comparison without a parent",
    ),
    (
        "disjoint-set-n",
        "Populations of one disjoint set with the same parent do not have, together, more "
        "patients in an arm than the parent.",
        "check the n in population_arms.csv and the disjoint_set of the populations",
    ),
    (
        "primary-population",
        "A study has at most one primary population.",
        "set primary to true for one population of the study only",
    ),
    ("study-without-arms", "Every study has at least one arm.", "add the study's arms to arms.csv"),
    (
        "study-without-populations",
        "Every study has at least one population.",
        "add the study's analysis set (e.g. kind 'overall') to populations.csv",
    ),
    (
        "population-without-arms",
        "Every population lists the n of its arms in population_arms.csv.",
        "add one row per arm with its n to population_arms.csv",
    ),
    (
        "single-arm-design",
        "A study with a single-arm design has one arm.",
        "fix the design in studies.csv, or the study_id of the arms",
    ),
    (
        "comparison-same-regimen",
        "A comparison pair compares two different regimens.",
        "fix intervention_regimen_id or control_regimen_id",
    ),
    (
        "comparison-without-pairs",
        "Every comparison has at least one regimen pair.",
        "add the comparison's intervention and control regimens to comparison_pairs.csv",
    ),
    (
        "regimen-without-components",
        "Every regimen lists its interventions.",
        "add the regimen's interventions to regimen_components.csv",
    ),
    (
        "dates-order",
        "Dates are in order: enrolment start <= enrolment end <= end of follow-up <= publication <= extraction.",
        "check the dates against the source; enrolment and follow-up dates are often swapped",
    ),
    (
        "duplicate-row",
        "Tables without a primary key have no two rows with the same natural key "
        "(baseline: population, arm, characteristic, category, statistic; adverse events: population, arm, "
        "category, term, grade; risk of bias: study, outcome, domain; certainty: comparison, outcome, analysis).",
        "remove the duplicate row, or distinguish the rows (e.g. grade, category)",
    ),
    (
        "p-value-differs",
        "A between-arm p-value repeated on each arm's row (adverse events, baseline, binary "
        "outcomes) or on each level (subgroups) is the same on every row.",
        "copy the same printed p-value onto every row of the comparison",
    ),
    (
        "baseline-statistic",
        "A continuous baseline row (with a statistic) has a value; a categorical row "
        "has a count or a percent and no statistic values.",
        "fill in value for mean/median rows; count/percent for category rows",
    ),
    (
        "baseline-spread-order",
        "Quartiles and ranges enclose the median (spread_low <= value <= spread_high); an SD is not negative.",
        "check the value and spread against the source; spread_high is empty for mean-sd",
    ),
    (
        "note-reference",
        "An extraction note named in a note ('see extraction note x') exists.",
        "add the note to extraction_notes.csv, or fix its id in the note",
    ),
)

_TOPIC = _rules(
    2,
    "error",
    (
        "outcome-kind",
        "A result row's outcome has the kind its table holds: medians, landmarks, subgroups and prognostic factors "
        "for time-to-event outcomes, binary_outcomes.csv for binary ones, continuous_outcomes.csv for continuous "
        "ones; an effect's measure fits its outcome's kind (HR: time-to-event; RR, OR, RD: binary; MD, SMD, ROM: "
        "continuous).",
        "use an outcome of the right kind from outcomes.csv, or fix the outcome's kind there",
    ),
    (
        "outcome-measure",
        "An outcome's default measure fits its kind, and its counts come from a table that can give them.",
        "time-to-event: HR; binary: RR, OR or RD; continuous: MD, SMD or ROM; counts_from only for binary outcomes",
    ),
    (
        "outcome-mid",
        "A minimal important difference of a ratio measure is a ratio above 1 (e.g. 1.25); every MID has its reason.",
        "write the MID as the ratio above 1 (1.25, not 0.8 or 25%), and say why in mid_reason",
    ),
    (
        "ratio-positive",
        "A ratio (HR, OR, RR, ROM) and its confidence limits are above 0; only differences (RD, MD, SMD) may be "
        "negative.",
        "check the measure: a negative value is a difference (RD, MD or SMD), not a ratio",
    ),
    (
        "counts-elsewhere",
        "binary_outcomes.csv holds no rows of an outcome whose counts come from another table (counts_from).",
        "move the counts to the table counts_from names, or empty counts_from in outcomes.csv",
    ),
    (
        "comparison-declarations",
        "A comparison's subgroup_by is an attribute of population_attributes.csv, its main_level one of that "
        "attribute's values, and its headline_outcomes are outcome ids.",
        "fix the id, or add the population attribute or outcome it names",
    ),
    (
        "analysis-settings",
        "The descriptor's analysis settings name methods the pooling knows: tau2_method REML, PM or DL; ci_method "
        "hksj-adhoc, hksj or wald; pi_type metafor or riley.",
        'fix the value in datapackage.json\'s "analysis" (see docs/methods.md for what each method does)',
    ),
    (
        "label-duplicate-pool",
        "A pool_as name is used by one coded field only.",
        "give the values of different fields different pool_as names",
    ),
)

_TOPIC_WARNINGS = _rules(
    2,
    "warning",
    (
        "label-missing",
        "Every coded value shown on pages (designs, kinds, criteria, grades, categories) has its words in "
        "labels.csv; without them the page shows the code made readable.",
        "add a row to labels.csv: table, field, value, label",
    ),
    (
        "column-unknown",
        "Every column of a table is one the generator shows or checks; others are kept in the downloads but not "
        "shown on pages.",
        "remove the column, or keep it knowing pages do not show it (see the data dictionary for each table's columns)",
    ),
    (
        "resource-unknown",
        "Every table of the package is one the generator reads; others are kept in the downloads only.",
        "remove the table, or rename it to a table the generator reads (see the data dictionary)",
    ),
)

# Judgements (checks/appraisal.py): risk of bias per study, indirectness concerns, certainty decisions.
_APPRAISAL = _rules(
    2,
    "error",
    (
        "rob-tool",
        "A study's risk-of-bias rows use the tool its design calls for (RoB 2 for randomised trials, ROBINS-I for "
        "other designs) at a version the generator knows, one tool and version for all of them.",
        "use tool RoB-2 (version 2019) for a randomised trial and ROBINS-I (version 2016) otherwise",
    ),
    (
        "rob-domain",
        "A risk-of-bias domain is one of its tool's domains, or 'overall'.",
        "use the tool's domain ids (docs/methods.md lists them), e.g. confounding, selection, measurement",
    ),
    (
        "rob-judgement",
        "A risk-of-bias judgement is on its tool's scale (ROBINS-I: low, moderate, serious, critical, "
        "no-information; RoB 2: low, some-concerns, high).",
        "use a judgement of the tool's scale; where the paper does not say, ROBINS-I's is no-information",
    ),
    (
        "appraisal-support",
        "Every judgement (a risk-of-bias domain, an indirectness concern) has its support, a sentence on what the "
        "paper reports, and its location in the paper.",
        "write why in support and where in the paper (section, table, figure) in location",
    ),
    (
        "rob-incomplete",
        "A study's assessment judges every domain of its tool, for all outcomes or outcome by outcome.",
        "add a row for the missing domain (no-information when the paper does not say)",
    ),
    (
        "rob-overall",
        "A recorded overall judgement is not less severe than its tool's rule gives from the domain judgements "
        "(ROBINS-I: the most severe domain, no information when a domain lacks it and none is serious or "
        "critical; RoB 2: high if any domain is high, some concerns if any has some).",
        "record the overall judgement the tool's rule gives, or change the domain judgement that is wrong",
    ),
    (
        "indirectness-study",
        "An indirectness concern is about a study that has arms of one of the comparison's regimen pairs.",
        "fix study_id or comparison_id; the study must have an intervention and a control arm of the comparison",
    ),
    (
        "certainty-decision",
        "A certainty decision is consistent: a confirmed rating equals the proposed one, an override differs from "
        "it and gives its reason, and a named analysis is one of the row's outcome (its key starts with the "
        "outcome id).",
        "for 'confirmed' copy the proposed rating; for 'overridden' write why in reason",
    ),
)
_APPRAISAL_WARNINGS = _rules(
    2,
    "warning",
    (
        "rob-missing",
        "Every study has a risk-of-bias assessment with the tool its design calls for; without one its pages say "
        "'not assessed' and the certainty of evidence counts it as at serious risk of bias.",
        "assess the study and add its rows to risk_of_bias.csv (docs/contribute.md)",
    ),
    (
        "rob-overall-differs",
        "A recorded overall judgement is the one its tool's rule gives from the domain judgements (a more severe "
        "one is allowed, and shown, as the assessor's judgement).",
        "check the overall judgement; if it is meant, say why in its support",
    ),
)

_CONSISTENCY = _rules(
    3,
    "warning",
    (
        "percent-mismatch",
        "A printed percentage is what its count and n give, at the printed decimals "
        "(response: of n_evaluable; adverse events: of n_at_risk; baseline: of the arm's n in the population; "
        "binary outcomes: of n).",
        "compare with the source: if the paper prints this, keep it and say so in the note; otherwise fix "
        "the count, the percent or n",
    ),
    (
        "percent-impossible",
        "A percentage printed without a count is k/n for some whole number k.",
        "compare with the source: if the paper prints this, keep it and say so in the note; otherwise fix "
        "the percent or n",
    ),
    (
        "orr-n-mismatch",
        "A printed ORR count equals CR + PR.",
        "compare with the source: if the paper prints these, keep them and say so in the note",
    ),
    (
        "dcr-n-mismatch",
        "A printed DCR count equals CR + PR + SD.",
        "compare with the source: if the paper prints these, keep them and say so in the note",
    ),
    (
        "baseline-sum",
        "The counts of all categories of a baseline characteristic add up to the arm's n "
        "(checked only when the categories are complete: yes/no, male/female, or percents adding to 100).",
        "compare with the source: if the paper prints these, keep them and say so in the note; a category "
        "may be missing",
    ),
    (
        "p-value-inconsistent",
        "A printed between-arm p-value of a response outcome (counts_from response) is one that the response "
        "counts can give (Pearson chi-square with or without Yates' correction, or Fisher's exact test).",
        "compare with the source: if the paper prints this, keep it and say so in the note or in extraction_notes.csv",
    ),
)

# The generator's own rules (checks/generator_rules.py, checks/descriptor_safety.py, release/history_schema.py):
# enforced whatever the package's schema says, because a pull request can change the schema too.
_GENERATOR = _rules(
    1,
    "error",
    (
        "duplicate-key",
        "A JSON object of datapackage.json or releases.json has the same key twice (readers disagree on which "
        "one counts).",
        "keep one of the two entries and delete the other",
    ),
    (
        "external-reference",
        "datapackage.json refers to a document outside itself (a profile that is not an official one known by "
        "name, $schema, $ref, a schema or dialect given as a path or URL); validation never fetches one.",
        "write the profile by name (tabular-data-package, tabular-data-resource) and everything else inline",
    ),
    (
        "id-syntax",
        "An id the site uses in file names and addresses (every field ending in _id) is not a slug of at most "
        "80 characters: lower-case letters and digits separated by single hyphens.",
        "use lower-case letters, digits and single hyphens, e.g. 'li-after-psm'",
    ),
    (
        "invalid-date",
        "A date (YYYY-MM-DD) or month (YYYY-MM) of a date field is not a day or month of the calendar, e.g. "
        "2025-02-30.",
        "check the date against the source",
    ),
    (
        "releases-json",
        "datapackage/releases.json is not strict UTF-8 JSON within the limits (size, nesting, no duplicate key, "
        "no NaN, no control character).",
        "regenerate the entry with `python build.py diff BASE --record` instead of editing the file by hand",
    ),
    (
        "releases-invalid",
        "An entry of datapackage/releases.json does not follow the release history's schema (MAJOR.MINOR.PATCH "
        "versions, dates of the calendar, slugs as ids, counts as whole numbers).",
        "regenerate the entry with `python build.py diff BASE --record` instead of editing the file by hand",
    ),
)
_GENERATOR_WARNINGS = _rules(
    3,
    "warning",
    (
        "spreadsheet-formula",
        "A cell starts with =, +, -, @, a tab or a carriage return and is not a number: a spreadsheet would run "
        "it as a formula. The CSV files of the download zips get a leading apostrophe for such cells.",
        "if the text is meant, keep it (the downloads are made safe); otherwise remove the leading character",
    ),
)

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        *_STRUCTURE,
        *_MEANING,
        *_TOPIC,
        *_TOPIC_WARNINGS,
        *_APPRAISAL,
        *_APPRAISAL_WARNINGS,
        *_CONSISTENCY,
        *_GENERATOR,
        *_GENERATOR_WARNINGS,
    )
}

#: At most this many problems of one rule in one file are listed; the rest are counted in one last problem, so that
#: a huge broken file gives a readable report in bounded memory.
MAX_PROBLEMS_PER_RULE = 200


def problem(
    rule: str,
    file: str,
    row: int | None,
    field: str | None,
    message: str,
    hint: str | None = None,
) -> Problem:
    """Create a problem for a registered rule; the severity and, unless given, the hint come from it.

    Raises:
        KeyError: if ``rule`` is not registered (a bug in a check, caught by the tests).
    """
    spec = RULES[rule]
    return Problem(
        file=file,
        row=row,
        field=field,
        rule=rule,
        message=message,
        hint=spec.hint if hint is None else hint,
        severity=spec.severity,
    )


class ProblemList:
    """Problems in the order found, at most ``limit`` per (file, rule); the rest are only counted.

    ``finish()`` returns the kept problems followed, for each (file, rule) over the limit, by one problem of the
    same rule (so the same severity) saying how many more there are.
    """

    def __init__(self, limit: int = MAX_PROBLEMS_PER_RULE) -> None:
        self.limit = limit
        self.problems: list[Problem] = []
        self._counts: dict[tuple[str, str], int] = {}

    def add(self, p: Problem) -> None:
        """Keep ``p`` unless its file already has ``limit`` problems of its rule."""
        key = (p.file, p.rule)
        n = self._counts.get(key, 0) + 1
        self._counts[key] = n
        if n <= self.limit:
            self.problems.append(p)

    def full(self, file: str, rule: str) -> bool:
        """True when ``file`` has ``limit`` problems of ``rule`` already: a further one would only be counted.

        A check whose messages are costly to write (a 'did you mean' over thousands of ids) asks first and
        calls :meth:`skip` instead of writing a message nobody reads.
        """
        return self._counts.get((file, rule), 0) >= self.limit

    def skip(self, file: str, rule: str) -> None:
        """Count one more problem of ``rule`` in ``file`` without keeping it (only when :meth:`full`)."""
        key = (file, rule)
        self._counts[key] = self._counts.get(key, 0) + 1

    def extend(self, problems: Iterable[Problem]) -> None:
        """Add problems one by one (a generator is consumed without holding all of it)."""
        for p in problems:
            self.add(p)

    def finish(self) -> list[Problem]:
        """The kept problems, and one summary problem per (file, rule) that went over the limit."""
        out = list(self.problems)
        for (file, rule), n in self._counts.items():
            if n > self.limit:
                out.append(
                    problem(
                        rule,
                        file,
                        None,
                        None,
                        f"{n - self.limit} more problems of this rule in this file are not listed "
                        f"(the first {self.limit} are)",
                    )
                )
        return out
