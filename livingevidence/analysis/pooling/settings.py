"""How a random-effects meta-analysis is computed: one frozen ``PoolSettings`` per project.

The defaults are the choices stated on the methods page:

* tau^2 by REML (restricted maximum likelihood), falling back to Paule-Mandel and then DerSimonian-Laird
  only where REML cannot be solved (metafor's ``rma(method = c("REML", "PM", "DL"))``);
* the CI of the summary effect by Hartung-Knapp-Sidik-Jonkman **with the ad hoc variance correction**
  (Knapp & Hartung 2003; recommended for few studies by Roever et al. 2015, BMC Med Res Methodol 15:99;
  metafor ``test="adhoc"``): the HKSJ scaling factor ``q = sum(w (y - mu)^2) / (k - 1)`` is truncated at 1,
  so the interval is never narrower than the Wald-type interval with t(k - 1) quantiles. Untruncated HKSJ
  (``"hksj"``, metafor ``test="knha"``) gives intervals *narrower* than the common-effect one whenever the
  studies agree better than their variances imply (Q < k - 1), which is common with two or three studies;
* 95% level; the prediction interval as metafor's ``predict()`` (``"metafor"``; ``"riley"`` is the
  t(k - 2) variant of Riley et al. 2011).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from livingevidence.analysis.pooling.distributions import check_level

Tau2Method = Literal["REML", "PM", "DL"]
CIMethod = Literal["hksj-adhoc", "hksj", "wald"]
PIType = Literal["metafor", "riley"]

TAU2_METHODS: tuple[str, ...] = ("REML", "PM", "DL")
CI_METHODS: tuple[str, ...] = ("hksj-adhoc", "hksj", "wald")
PI_TYPES: tuple[str, ...] = ("metafor", "riley")

#: The test= argument of metafor's rma() that gives each CI method.
METAFOR_TEST = {"hksj-adhoc": "adhoc", "hksj": "knha", "wald": "z"}

#: How each method is named in running text (methods page, forest-plot captions).
TAU2_METHOD_NAMES = {"REML": "restricted maximum likelihood (REML)", "PM": "Paule-Mandel", "DL": "DerSimonian-Laird"}
CI_METHOD_NAMES = {
    "hksj-adhoc": "Hartung-Knapp-Sidik-Jonkman with the ad hoc variance correction (never narrower than Wald)",
    "hksj": "Hartung-Knapp-Sidik-Jonkman (untruncated)",
    "wald": "Wald (normal quantiles)",
}


@dataclass(frozen=True)
class PoolSettings:
    """The project's choice of estimators for random-effects pooling (see the module docstring).

    ``tau2_fallbacks`` are tried in order when ``tau2_method`` cannot be solved; the result records the
    method actually used and why. ``qprofile_tol`` is passed to ``q_profile_ci`` as ``tol`` (None: the
    exact root; ``METAFOR_UNIROOT_TOL`` reproduces metafor's printed digits).

    Raises:
        ValueError: for an unknown method, fallback, CI method or PI type, or a level outside (0, 1).
    """

    tau2_method: Tau2Method = "REML"
    tau2_fallbacks: tuple[Tau2Method, ...] = ("PM", "DL")
    ci_method: CIMethod = "hksj-adhoc"
    level: float = 0.95
    pi_type: PIType = "metafor"
    qprofile_tol: float | None = None

    def __post_init__(self) -> None:
        for name in (self.tau2_method, *self.tau2_fallbacks):
            if name not in TAU2_METHODS:
                raise ValueError(f"unknown tau^2 method {name!r}; use one of {', '.join(TAU2_METHODS)}")
        if self.ci_method not in CI_METHODS:
            raise ValueError(f"unknown CI method {self.ci_method!r}; use one of {', '.join(CI_METHODS)}")
        if self.pi_type not in PI_TYPES:
            raise ValueError(f"unknown pi_type {self.pi_type!r}; use 'metafor' or 'riley'")
        check_level(self.level)

    @property
    def hksj(self) -> bool:
        """Whether the CI is a Hartung-Knapp-Sidik-Jonkman one (t quantiles, scaled SE)."""
        return self.ci_method != "wald"

    @property
    def hksj_truncate(self) -> bool:
        """Whether the HKSJ scaling factor is truncated at 1 (the ad hoc correction)."""
        return self.ci_method == "hksj-adhoc"

    @property
    def metafor_test(self) -> str:
        """metafor's ``test=`` for this CI method."""
        return METAFOR_TEST[self.ci_method]

    @property
    def tau2_chain(self) -> tuple[str, ...]:
        """The tau^2 methods in the order they are tried, without repeats."""
        return tuple(dict.fromkeys((self.tau2_method, *self.tau2_fallbacks)))

    def describe(self) -> str:
        """One sentence naming the methods, for a methods page or a forest-plot caption."""
        return (
            f"Random effects: tau² by {TAU2_METHOD_NAMES[self.tau2_method]}; "
            f"{round(100 * self.level)}% CI by {CI_METHOD_NAMES[self.ci_method]}."
        )

    def to_dict(self) -> dict[str, object]:
        """Plain-dict view for JSON."""
        return {
            "tau2_method": self.tau2_method,
            "tau2_fallbacks": list(self.tau2_fallbacks),
            "ci_method": self.ci_method,
            "metafor_test": self.metafor_test,
            "level": self.level,
            "pi_type": self.pi_type,
        }


DEFAULT_SETTINGS = PoolSettings()


def resolve(
    settings: PoolSettings | None = None,
    *,
    method: str | None = None,
    hksj: bool | None = None,
    hksj_truncate: bool | None = None,
    pi_type: str | None = None,
    qprofile_tol: float | None = None,
    level: float | None = None,
) -> PoolSettings:
    """``settings`` (default ``DEFAULT_SETTINGS``) with the older keyword arguments applied on top.

    The keywords keep their former meaning so existing callers get the numbers they asked for:
    ``hksj=False`` is the Wald CI, ``hksj=True`` the untruncated HKSJ CI unless ``hksj_truncate=True``.
    Leaving them all ``None`` uses the settings as given (by default the ad hoc corrected HKSJ CI).
    """
    base = DEFAULT_SETTINGS if settings is None else settings
    changes: dict[str, object] = {}
    if method is not None:
        changes["tau2_method"] = method
    if hksj is not None or hksj_truncate is not None:
        on = base.hksj if hksj is None else hksj
        changes["ci_method"] = ("hksj-adhoc" if hksj_truncate else "hksj") if on else "wald"
    if pi_type is not None:
        changes["pi_type"] = pi_type
    if qprofile_tol is not None:
        changes["qprofile_tol"] = qprofile_tol
    if level is not None:
        changes["level"] = level
    return replace(base, **changes) if changes else base  # type: ignore[arg-type]
