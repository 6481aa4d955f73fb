"""Judgements on the evidence: risk of bias per study (tools.py, risk_of_bias.py) and the certainty of the
evidence per comparison and outcome (GRADE), proposed by stated rules and confirmed or overridden by people."""
