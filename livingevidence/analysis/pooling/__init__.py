"""Inverse-variance meta-analysis: common-effect and random-effects pooling, and their sensitivity analyses.

The package is split by concern; everything public is re-exported here, so callers write
``from livingevidence.analysis import pooling`` and ``pooling.pool(...)``:

* ``results``: the typed results (``PoolResult``, ``RandomEffectsResult``, ``CommonEffectResult``,
  ``BriefResult``, ``BriefTable``);
* ``settings``: ``PoolSettings``, the estimators a project uses (REML, HKSJ with the ad hoc correction);
* ``tau2``: the between-study variance (REML, Paule-Mandel, DerSimonian-Laird, with fallbacks);
  ``qprofile``: its Q-profile CI;
* ``random_effects`` and ``common_effect``: one fit each; ``core``: ``pool`` and friends;
* ``mantel_haenszel``: Mantel-Haenszel (RR, OR, RD) and Peto (OR) common-effect models from 2x2 counts;
* ``subgroups`` and ``moderators``: subgroup pools with RevMan's test for subgroup differences and
  metafor's moderator test (QM of ``rma(mods = ~ factor(g))``);
* ``batch`` and ``certificate``: leave-one-out and cumulative analyses of many analyses as one batch;
* ``distributions`` and ``arrays``: quantiles, tails, input checks and exact sums.
"""

from livingevidence.analysis.pooling.batch import cumulative_brief, leave_one_out_brief, sensitivity_briefs
from livingevidence.analysis.pooling.common_effect import common_effect
from livingevidence.analysis.pooling.core import cumulative, leave_one_out, pool, pool_brief
from livingevidence.analysis.pooling.mantel_haenszel import MantelHaenszelResult, mantel_haenszel, peto
from livingevidence.analysis.pooling.moderators import ModeratorTest, factor_moderator_test
from livingevidence.analysis.pooling.qprofile import METAFOR_UNIROOT_TOL, q_profile_ci
from livingevidence.analysis.pooling.random_effects import random_effects
from livingevidence.analysis.pooling.results import (
    BriefResult,
    BriefTable,
    CommonEffectResult,
    PoolResult,
    RandomEffectsResult,
)
from livingevidence.analysis.pooling.settings import DEFAULT_SETTINGS, PoolSettings
from livingevidence.analysis.pooling.subgroups import (
    Subgroup,
    SubgroupAnalysis,
    SubgroupDifference,
    subgroup_analysis,
)
from livingevidence.analysis.pooling.tau2 import (
    REML_TOL,
    Tau2Error,
    Tau2Estimate,
    estimate_tau2,
    tau2_dl,
    tau2_pm,
    tau2_reml,
)

__all__ = [
    "DEFAULT_SETTINGS",
    "METAFOR_UNIROOT_TOL",
    "REML_TOL",
    "BriefResult",
    "BriefTable",
    "CommonEffectResult",
    "MantelHaenszelResult",
    "ModeratorTest",
    "PoolResult",
    "PoolSettings",
    "RandomEffectsResult",
    "Subgroup",
    "SubgroupAnalysis",
    "SubgroupDifference",
    "Tau2Error",
    "Tau2Estimate",
    "common_effect",
    "cumulative",
    "cumulative_brief",
    "estimate_tau2",
    "factor_moderator_test",
    "leave_one_out",
    "leave_one_out_brief",
    "mantel_haenszel",
    "peto",
    "pool",
    "pool_brief",
    "q_profile_ci",
    "random_effects",
    "sensitivity_briefs",
    "subgroup_analysis",
    "tau2_dl",
    "tau2_pm",
    "tau2_reml",
]
